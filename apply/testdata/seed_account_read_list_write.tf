# kmsgrant plan: grant arn:aws:iam::444455556666:root list,read,write access to s3://doc-example-bucket/reports/*
#   through key arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab
# Derived from the same plan as 'kmsgrant plan --output json'; kmsgrant writes none of it.
# Warning: manual_iam: account 444455556666's IAM policies are not planned; attach the manual iam_policy shown to each principal that needs access
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
#   grants s3:GetObject, s3:PutObject, s3:ListBucket (KmsgrantGetObjectPutObjectED377AD9, KmsgrantListBucket8DE670A8)
#   The statements kmsgrant adds to the bucket policy of doc-example-bucket.
#   Merge them into the policy of its aws_s3_bucket_policy, account 111122223333:
#   list this document in override_policy_documents of the aws_iam_policy_document
#   that makes that policy (for a policy written as JSON, make one with the JSON in
#   its source_policy_documents):
#     override_policy_documents = [data.aws_iam_policy_document.kmsgrant_bucket_policy_account_444455556666.json]
data "aws_iam_policy_document" "kmsgrant_bucket_policy_account_444455556666" {
  statement {
    sid       = "KmsgrantGetObjectPutObjectED377AD9"
    effect    = "Allow"
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = ["arn:aws:s3:::doc-example-bucket/reports/*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::444455556666:root"]
    }
  }
  statement {
    sid       = "KmsgrantListBucket8DE670A8"
    effect    = "Allow"
    actions   = ["s3:ListBucket"]
    resources = ["arn:aws:s3:::doc-example-bucket"]
    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::444455556666:root"]
    }
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["reports/*"]
    }
  }
}

# ~ update key_policy arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab (account 111122223333)
#   grants kms:Decrypt, kms:GenerateDataKey (KmsgrantDecryptGenerateDataKey0D21BA68)
#   The statements kmsgrant adds to the key policy of arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab.
#   Merge them into the policy of its aws_kms_key_policy (or the policy of its aws_kms_key), account 111122223333:
#   list this document in override_policy_documents of the aws_iam_policy_document
#   that makes that policy (for a policy written as JSON, make one with the JSON in
#   its source_policy_documents):
#     override_policy_documents = [data.aws_iam_policy_document.kmsgrant_key_policy_account_444455556666.json]
data "aws_iam_policy_document" "kmsgrant_key_policy_account_444455556666" {
  statement {
    sid       = "KmsgrantDecryptGenerateDataKey0D21BA68"
    effect    = "Allow"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::444455556666:root"]
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

# ! manual iam_policy arn:aws:iam::444455556666:root (account 444455556666)
#   the grantee is a whole account: its administrator must attach this policy to the roles or users that read the bucket
#   For the administrator of account 444455556666 to add, with a provider for that account.
#   The whole document, as an aws_iam_policy to attach to each role or user that
#   reads the bucket (aws_iam_role_policy_attachment, aws_iam_user_policy_attachment).
data "aws_iam_policy_document" "kmsgrant_iam_policy_account_444455556666" {
  version = "2012-10-17"
  statement {
    sid       = "KmsgrantGetObjectPutObjectF39314EF"
    effect    = "Allow"
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = ["arn:aws:s3:::doc-example-bucket/reports/*"]
  }
  statement {
    sid       = "KmsgrantListBucket581DACF0"
    effect    = "Allow"
    actions   = ["s3:ListBucket"]
    resources = ["arn:aws:s3:::doc-example-bucket"]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["reports/*"]
    }
  }
  statement {
    sid       = "KmsgrantDecryptGenerateDataKey25E769E0"
    effect    = "Allow"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
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

resource "aws_iam_policy" "kmsgrant_iam_policy_account_444455556666" {
  name   = "kmsgrant-doc-example-bucket"
  policy = data.aws_iam_policy_document.kmsgrant_iam_policy_account_444455556666.json
}
