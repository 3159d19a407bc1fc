# kmsgrant plan: grant arn:aws:iam::444455556666:role/reader read access to s3://doc-example-bucket/reports/*
#   through key arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab
# Derived from the same plan as 'kmsgrant plan --output json'; kmsgrant writes none of it.
# Not checked: service control policies: SCPs of the grantee's organization can deny the read
# Not checked: resource control policies: RCPs of the bucket owner's organization can deny the read
# Not checked: VPC endpoint policies: an S3 or KMS VPC endpoint policy on the grantee's network path can deny the read
# Not checked: session policies: a session policy passed when the grantee's role was assumed can narrow its access

# ~ update bucket_encryption arn:aws:s3:::doc-example-bucket (account 111122223333)
#   default encryption names the key as "alias/app-data", which resolves in the caller's account: writers in other accounts would encrypt with their own key of that name
#   The default encryption of bucket doc-example-bucket: set the rule of its
#   aws_s3_bucket_server_side_encryption_configuration to this one.
resource "aws_s3_bucket_server_side_encryption_configuration" "kmsgrant_doc_example_bucket" {
  bucket = "doc-example-bucket"
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    }
    bucket_key_enabled = true
  }
}

# ~ update bucket_policy arn:aws:s3:::doc-example-bucket (account 111122223333)
#   grants s3:GetObject (KmsgrantGetObject7CFD1E2A)
#   The statements kmsgrant adds to the bucket policy of doc-example-bucket.
#   Merge them into the policy of its aws_s3_bucket_policy, account 111122223333:
#   list this document in override_policy_documents of the aws_iam_policy_document
#   that makes that policy (for a policy written as JSON, make one with the JSON in
#   its source_policy_documents):
#     override_policy_documents = [data.aws_iam_policy_document.kmsgrant_bucket_policy_reader.json]
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

# ~ update key_policy arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab (account 111122223333)
#   grants kms:Decrypt (KmsgrantDecrypt570DB5F9)
#   The statements kmsgrant adds to the key policy of arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab.
#   Merge them into the policy of its aws_kms_key_policy (or the policy of its aws_kms_key), account 111122223333:
#   list this document in override_policy_documents of the aws_iam_policy_document
#   that makes that policy (for a policy written as JSON, make one with the JSON in
#   its source_policy_documents):
#     override_policy_documents = [data.aws_iam_policy_document.kmsgrant_key_policy_reader.json]
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

# + create iam_policy arn:aws:iam::444455556666:role/reader (account 444455556666)
#   grants s3:GetObject, kms:Decrypt (KmsgrantGetObjectEFF1DE02, KmsgrantDecrypt86894CFE)
#   The whole document, and the aws_iam_role_policy that attaches it.
data "aws_iam_policy_document" "kmsgrant_iam_policy_reader" {
  version = "2012-10-17"
  statement {
    sid       = "KmsgrantGetObjectEFF1DE02"
    effect    = "Allow"
    actions   = ["s3:GetObject"]
    resources = ["arn:aws:s3:::doc-example-bucket/reports/*"]
  }
  statement {
    sid       = "KmsgrantDecrypt86894CFE"
    effect    = "Allow"
    actions   = ["kms:Decrypt"]
    resources = ["arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"]
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

resource "aws_iam_role_policy" "kmsgrant_iam_policy_reader" {
  name   = "kmsgrant-doc-example-bucket"
  role   = "reader"
  policy = data.aws_iam_policy_document.kmsgrant_iam_policy_reader.json
}
