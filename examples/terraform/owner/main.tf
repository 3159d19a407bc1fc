# The bucket owner's account (111122223333) of examples/seed, as a team
# keeps it in Terraform, after merging what
#
#   kmsgrant plan --state examples/seed/state.json --bucket doc-example-bucket \
#     --prefix reports/ --grantee arn:aws:iam::444455556666:role/reader --output terraform
#
# prints for this account. The lines marked "kmsgrant" are the merge; the
# rest was there before. A test plans the grant again, parses this file and
# checks that what Terraform would make of it is what kmsgrant would write.

provider "aws" {
  profile = "owner"
  region  = "us-west-2"
}

# The bucket policy: the team's own statement, with kmsgrant's merged in.
data "aws_iam_policy_document" "bucket" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = ["arn:aws:s3:::doc-example-bucket", "arn:aws:s3:::doc-example-bucket/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  override_policy_documents = [data.aws_iam_policy_document.kmsgrant_bucket_policy_reader.json] # kmsgrant
}

resource "aws_s3_bucket_policy" "doc_example_bucket" {
  bucket = "doc-example-bucket"
  policy = data.aws_iam_policy_document.bucket.json
}

# The key policy, the same way.
data "aws_iam_policy_document" "app_data_key" {
  policy_id = "key-default-1"
  statement {
    sid       = "Enable IAM User Permissions"
    effect    = "Allow"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::111122223333:root"]
    }
  }

  override_policy_documents = [data.aws_iam_policy_document.kmsgrant_key_policy_reader.json] # kmsgrant
}

resource "aws_kms_key_policy" "app_data" {
  key_id = "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  policy = data.aws_iam_policy_document.app_data_key.json
}

# The default encryption named the key "alias/app-data", which resolves in
# the caller's account; kmsgrant's rule names it by its full ARN.
resource "aws_s3_bucket_server_side_encryption_configuration" "doc_example_bucket" {
  bucket = "doc-example-bucket"
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab" # kmsgrant
    }
    bucket_key_enabled = true
  }
}

# kmsgrant: pasted as printed.
data "aws_iam_policy_document" "kmsgrant_bucket_policy_reader" {
  statement {
    sid       = "KmsgrantGetObject7CFD1E2A"
    effect    = "Allow"
    actions   = ["s3:GetObject"]
    resources = ["arn:aws:s3:::doc-example-bucket/reports/*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::444455556666:role/reader"]
    }
  }
}

# kmsgrant: pasted as printed.
data "aws_iam_policy_document" "kmsgrant_key_policy_reader" {
  statement {
    sid       = "KmsgrantDecrypt570DB5F9"
    effect    = "Allow"
    actions   = ["kms:Decrypt"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::444455556666:role/reader"]
    }
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.us-west-2.amazonaws.com"]
    }
    condition {
      test     = "StringLike"
      variable = "kms:EncryptionContext:aws:s3:arn"
      values   = ["arn:aws:s3:::doc-example-bucket", "arn:aws:s3:::doc-example-bucket/reports/*"]
    }
  }
}
