# A small image of kmsgrant: a static binary on an empty base, run as a
# user that is not root. Build it from the repository's root:
#
#   docker build -t kmsgrant .
#   docker run --rm -v "$PWD:/work" -v "$HOME/.aws:/home/kmsgrant/.aws:ro" \
#     -e AWS_PROFILE kmsgrant plan --bucket NAME --grantee PRINCIPAL
#
# Backups go to /home/kmsgrant/.config/kmsgrant/backups: mount a volume
# there (or give --backup-dir in /work) to keep them.

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X github.com/kmsgrant/kmsgrant/cmd/internal/cli.version=${VERSION}" \
      -o /out/kmsgrant ./cmd/kmsgrant \
 && mkdir -p /out/home/kmsgrant/.config /out/work

FROM scratch
# TLS to AWS needs the CA certificates; the empty base has none.
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build --chown=65532:65532 /out/home/kmsgrant /home/kmsgrant
COPY --from=build --chown=65532:65532 /out/work /work
COPY --from=build /out/kmsgrant /usr/local/bin/kmsgrant
ENV HOME=/home/kmsgrant
USER 65532:65532
WORKDIR /work
ENTRYPOINT ["/usr/local/bin/kmsgrant"]
CMD ["--help"]
