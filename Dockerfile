# syntax=docker/dockerfile:1.6
# dledger container images (docs/packaging.md):
#   docker build --target broker   -t dledger/broker:0.1.0   .   # dledger-broker, dledger-namesrv, dledgerctl, dledger-ledger
#   docker build --target operator -t dledger/operator:0.1.0 .   # dledger-operator
# The build stage runs the same scripts/install-deps.sh and CMake release preset as CI and
# developers; the runtime stages hold only the shared libraries the programs link and run as the
# non-root uid/gid 10001 the operator's pod security context expects.

ARG DEBIAN_RELEASE=bookworm

# ---------------------------------------------------------------------------------------------
FROM debian:${DEBIAN_RELEASE} AS build
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
WORKDIR /src
# Dependencies first, so editing sources does not reinstall them.
COPY scripts/install-deps.sh scripts/install-deps.sh
RUN scripts/install-deps.sh && rm -rf /var/lib/apt/lists/*
COPY . .
ARG BUILD_JOBS=4
# Release preset (RelWithDebInfo) without the test suite; binaries are stripped when copied out.
RUN cmake --preset release -DDLEDGER_BUILD_TESTS=OFF \
 && cmake --build --preset release -j"${BUILD_JOBS}" \
      --target dledger-broker dledger-namesrv dledgerctl dledger-ledger dledger-operator \
 && mkdir -p /out/bin \
 && for p in dledger-broker dledger-namesrv dledgerctl dledger-ledger dledger-operator; do \
      f="$(find build/release -type f -name "$p" -perm -u+x | head -n1)"; \
      test -n "$f" || { echo "missing program $p" >&2; exit 1; }; \
      install -m 0755 -s "$f" "/out/bin/$p"; \
    done

# ---------------------------------------------------------------------------------------------
# Shared runtime base: the Debian runtime packages of the -dev packages in install-deps.sh that
# the programs link (ldd): libstdc++6, libgcc-s1, libc6 (in the base image), spdlog, fmt,
# yaml-cpp, prometheus-cpp core + pull, cpprest (brings libbrotli1), OpenSSL 3, zlib.
FROM debian:${DEBIAN_RELEASE}-slim AS runtime
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      libstdc++6 libgcc-s1 libspdlog1.10 libfmt9 libyaml-cpp0.7 \
      libprometheus-cpp-core1.0 libprometheus-cpp-pull1.0 libcpprest2.10 libssl3 zlib1g \
      ca-certificates tini \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 dledger \
 && useradd --system --uid 10001 --gid 10001 --home-dir /data --no-create-home --shell /usr/sbin/nologin dledger \
 && mkdir -p /data /etc/dledger \
 && chown 10001:10001 /data
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="dledger" \
      org.opencontainers.image.description="Raft-replicated RocketMQ-compatible message broker" \
      org.opencontainers.image.source="https://github.com/dledger/dledger" \
      org.opencontainers.image.documentation="https://github.com/dledger/dledger/blob/main/docs/packaging.md" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.vendor="dledger" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.base.name="docker.io/library/debian:${DEBIAN_RELEASE}-slim"

# ---------------------------------------------------------------------------------------------
FROM runtime AS operator
COPY --from=build /out/bin/dledger-operator /usr/local/bin/
USER 10001:10001
EXPOSE 8080
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["dledger-operator"]

# ---------------------------------------------------------------------------------------------
# Last stage, so a plain `docker build .` gives the broker image.
FROM runtime AS broker
COPY --from=build /out/bin/dledger-broker /out/bin/dledger-namesrv /out/bin/dledgerctl /out/bin/dledger-ledger /usr/local/bin/
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
# 10911 RocketMQ remoting, 40911 ledger peers, 10980 admin HTTP (probes, /metrics), 9876 name server
EXPOSE 10911 40911 10980 9876
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["dledger-broker", "-c", "/etc/dledger/broker.conf"]
