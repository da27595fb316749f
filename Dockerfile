# spoa-shadow container image, for hosts with Docker or another BuildKit
# builder:  docker build -t spoa-shadow .
#
# It builds the same binary as `make` on Debian bookworm and ships it with
# only the runtime libraries, running as the non-root user 10001. `make
# image` builds the equivalent image from scratch with buildah (no base
# image, no shell): see k8s/image/build-image.sh. tests/image/ checks that
# the package lists below match what the binary links.

# ---- build ----
FROM debian:bookworm-slim AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        gcc libc6-dev make \
        libev-dev libhttp-parser-dev libnghttp2-dev libmsgpack-dev libyaml-dev libssl-dev libjansson-dev \
        libjsmn-dev libxxhash-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Makefile ./
COPY spoa/ spoa/
RUN make build/spoa-shadow && strip --strip-unneeded build/spoa-shadow

# ---- runtime ----
FROM debian:bookworm-slim
# libmsgpackc2 is on the link line (-lmsgpackc); the linker may drop it
# when no symbol is used, but the image keeps it so either build runs.
# ca-certificates: the system CA store that verifies https mirrors without
# a tls.ca_file.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libev4 libhttp-parser2.9 libnghttp2-14 libmsgpackc2 libyaml-0-2 libssl3 ca-certificates libjansson4 \
        libxxhash0 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --gid 10001 spoa \
    && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin spoa
COPY --from=build /src/build/spoa-shadow /usr/local/bin/spoa-shadow
COPY k8s/image/spoa-shadow.yaml /etc/spoa-shadow/spoa-shadow.yaml
USER 10001:10001
EXPOSE 12345/tcp 9901/tcp
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/spoa-shadow"]
CMD ["-c", "/etc/spoa-shadow/spoa-shadow.yaml"]
