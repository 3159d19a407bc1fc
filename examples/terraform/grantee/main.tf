# The grantee's account (444455556666) of examples/seed in Terraform: what
# `kmsgrant plan ... --output terraform` prints for this account (the
# reader role's new inline policy), pasted as printed. The role itself is
# managed elsewhere.

provider "aws" {
  profile = "partner"
  region  = "us-west-2"
}

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
