# syntax=docker/dockerfile:1
# The image `rotator manifest` names by default: the static musl binary, alone, as a non-root user.
#
#   docker build -t ghcr.io/kubectl-pxtoken/kubectl-pxtoken:0.1.0 \
#     --build-arg PXTOKEN_GIT_COMMIT=$(git rev-parse --short=12 HEAD) .
#
# On Alpine, Rust's host target is x86_64/aarch64-unknown-linux-musl, which links statically by
# default, so the binary needs no libc in the final image. `docker buildx --platform
# linux/amd64,linux/arm64` builds each architecture natively (or under emulation).

ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-alpine AS build
# ring (rustls' crypto) compiles C: the musl headers and a C compiler; the CA bundle is copied below.
RUN apk add --no-cache ca-certificates gcc musl-dev
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
COPY src ./src
# build.rs records the commit for --version; there is no .git in the build context.
ARG PXTOKEN_GIT_COMMIT=unknown
ENV PXTOKEN_GIT_COMMIT=${PXTOKEN_GIT_COMMIT}
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin kubectl-pxtoken \
    && cp target/release/kubectl-pxtoken /kubectl-pxtoken

FROM scratch
LABEL org.opencontainers.image.source="https://github.com/kubectl-pxtoken/kubectl-pxtoken" \
      org.opencontainers.image.description="kubectl-pxtoken: issue and rotate Portworx authorization tokens" \
      org.opencontainers.image.licenses="Apache-2.0"
# In a Pod the API server's CA comes from the ServiceAccount; these roots serve a mounted
# kubeconfig whose server has a public certificate.
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY LICENSE /LICENSE
COPY --from=build /kubectl-pxtoken /kubectl-pxtoken
# distroless' "nonroot": the uid/gid the rotator's CronJob runs as (runAsNonRoot needs a number).
USER 65532:65532
# Exec form, no shell: fails the build if the binary is not static or does not start.
RUN ["/kubectl-pxtoken", "--version"]
ENTRYPOINT ["/kubectl-pxtoken"]
