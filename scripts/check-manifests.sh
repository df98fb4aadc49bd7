#!/usr/bin/env bash
# Offline checks of the packaging assets (chart, deploy/ manifests, alerts, dashboards, Dockerfile).
# Needs the tools from scripts/install-tools.sh (run it first; this script does not install).
#   scripts/check-manifests.sh
# Steps (all run; the script exits 1 at the end if any failed, naming each failure):
#   1. CRD copy and generated files up to date (scripts/generate-deploy.sh --check)
#   2. helm lint --strict with the default values and every tests/packaging/values-*.yaml
#   3. helm template of the same value sets, validated by tests/packaging/validate-manifests.mjs
#      (kubernetes-models@4 for built-in kinds, the CRD's openAPIV3Schema for DLedgerGroups)
#   4. values the chart must refuse (schema / required) are refused, and the validator rejects
#      every object of tests/packaging/invalid-manifests.yaml for the expected reason
#   5. deploy/ manifests validated the same way, and the operator's golden rendered objects
#   6. dashboards: schemaVersion 39, ${datasource} variable, every panel has a datasource and
#      targets with expr, unique panel ids
#   7. promtool check rules + promtool test rules (tests/packaging/alerts_test.yml)
#   8. Dockerfile structure (stages, targets, non-root user, install-deps.sh, preset)
#   9. docs/configuration.md: CRD table generated from deploy/crds is current, every broker.conf
#      key the programs read is documented (tests/packaging/check_docs.py)
# The Prometheus end-to-end check (a real server scraping a local group and the operator; every
# dashboard panel returns data) needs the programs: it is the ctest
# PrometheusScrapesGroupAndEveryDashboardPanelHasData (tests/packaging/prometheus_e2e.py).
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT" || exit 2
TOOLS_DIR="${DLEDGER_TOOLS_DIR:-$ROOT/build/tools}"
HELM="$TOOLS_DIR/bin/helm"
CRD="deploy/crds/dledger.io_dledgergroups.yaml"
CHART="charts/dledger"
SCRATCH="$(mktemp -d)"
trap 'rm -rf "$SCRATCH"' EXIT
export HELM_CACHE_HOME="$SCRATCH/helm/cache" HELM_CONFIG_HOME="$SCRATCH/helm/config" HELM_DATA_HOME="$SCRATCH/helm/data"

failures=()
step() { echo "== $*"; }
fail() { echo "FAIL: $*" >&2; failures+=("$*"); }

for tool in "$HELM" promtool node; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "check-manifests: $tool not found: run scripts/install-tools.sh first" >&2
    exit 2
  fi
done
[ -f "$TOOLS_DIR/node_modules/kubernetes-models/package.json" ] ||
  { echo "check-manifests: kubernetes-models missing in $TOOLS_DIR: run scripts/install-tools.sh" >&2; exit 2; }
validate() { node tests/packaging/validate-manifests.mjs --tools "$TOOLS_DIR" --crd "$CRD" "$@"; }

step "1. CRD copy and generated files"
if ! cmp -s "$CRD" "$CHART/crds/dledger.io_dledgergroups.yaml"; then
  fail "$CHART/crds/dledger.io_dledgergroups.yaml differs from $CRD (run scripts/generate-deploy.sh)"
fi
scripts/generate-deploy.sh --check || fail "generated files drifted (run scripts/generate-deploy.sh)"

# NOTES.txt is not rendered by `helm template`; render it from a scratch copy of the chart.
NOTES_CHART="$SCRATCH/notes-chart"
cp -r "$CHART" "$NOTES_CHART"
cp "$CHART/templates/NOTES.txt" "$NOTES_CHART/notes-preview.txt"
printf 'notes: |\n{{ tpl (.Files.Get "notes-preview.txt") . | indent 2 }}\n' >"$NOTES_CHART/templates/notes-preview.yaml"
check_notes() {  # check_notes <value set> <helm args...>
  local vs="$1" notes="$SCRATCH/notes.txt"
  shift
  if ! "$HELM" template dledger-check "$NOTES_CHART" --namespace brokers --show-only templates/notes-preview.yaml "$@" >"$notes" 2>&1; then
    cat "$notes" >&2
    fail "NOTES.txt does not render ($vs)"
    return
  fi
  if grep -q '<no value>' "$notes"; then fail "NOTES.txt prints <no value> ($vs)"; fi
  if grep -q 'Broker group' "$notes"; then
    for want in 'get dlg -w' 'dledgerctl clusterList' 'delete pod'; do
      grep -q -- "$want" "$notes" || fail "NOTES.txt lacks '$want' ($vs)"
    done
  fi
}

step "2-3. helm lint --strict, helm template + validation, NOTES.txt"
value_sets=(default)
for f in tests/packaging/values-*.yaml; do value_sets+=("$f"); done
for vs in "${value_sets[@]}"; do
  args=()
  [ "$vs" = default ] || args=(-f "$vs")
  if ! "$HELM" lint --strict "$CHART" "${args[@]}" >"$SCRATCH/lint.log" 2>&1; then
    cat "$SCRATCH/lint.log" >&2
    fail "helm lint --strict ($vs)"
    continue
  fi
  out="$SCRATCH/rendered-$(basename "$vs" .yaml).yaml"
  if ! "$HELM" template dledger-check "$CHART" --namespace brokers --include-crds "${args[@]}" >"$out" 2>"$SCRATCH/tpl.log"; then
    cat "$SCRATCH/tpl.log" >&2
    fail "helm template ($vs)"
    continue
  fi
  validate "$out" || fail "rendered manifests invalid ($vs)"
  if [ "$vs" = tests/packaging/values-group-only.yaml ] && ! grep -q '"maxMessageSize": "41943040"' "$out"; then
    fail "group.config numbers must render as plain digits ($vs)"
  fi
  check_notes "$vs" "${args[@]}"
done

step "4. values the chart must refuse"
refuse() {  # refuse <expected message part> <helm args...>: helm must fail, saying that
  local want="$1"
  shift
  if "$HELM" template dledger-check "$CHART" "$@" >/dev/null 2>"$SCRATCH/refuse.log"; then
    fail "chart accepted $*"
  elif ! grep -qF -- "$want" "$SCRATCH/refuse.log"; then
    cat "$SCRATCH/refuse.log" >&2
    fail "chart refused $* without saying '$want'"
  else
    echo "refused $*: $want"
  fi
}
refuse "group.replicas: Must be less than or equal to 9" --set group.replicas=12
refuse "group.name: String length must be greater than or equal to 1" --set group.name=
refuse "group.flushMode: group.flushMode must be one of" --set group.flushMode=fast
refuse "Additional property unknownKey is not allowed" --set unknownKey=1
refuse "operator: Additional property replica is not allowed" --set operator.replica=2
refuse "group.storage.size: Does not match pattern" --set group.storage.size=ten
refuse "group.preferredLeader: Does not match pattern" --set group.preferredLeader=n9
refuse "group.nameServerAddresses: Does not match pattern" --set group.nameServerAddresses=nohostport
refuse "group.adminTokenSecretRef.key is required" --set group.adminTokenSecretRef.name=s
refuse "operator.serviceAccount.name is required" --set operator.serviceAccount.create=false
refuse "nameServer.replicas: Must be greater than or equal to 1" --set nameServer.replicas=0

step "4b. the validator rejects known-bad objects (tests/packaging/invalid-manifests.yaml)"
validate --expect-invalid tests/packaging/invalid-manifests.yaml || fail "validate-manifests.mjs accepted an invalid object"

step "5. deploy/ manifests"
deploy_files=()
while IFS= read -r f; do deploy_files+=("$f"); done < <(find deploy -name '*.yaml' -not -path 'deploy/monitoring/rules/*' | sort)
validate "${deploy_files[@]}" || fail "deploy/ manifests invalid"

step "5b. the operator's rendered objects (tests/operator/golden, when present)"
golden=(tests/operator/golden/*.yaml)
if [ -e "${golden[0]}" ]; then
  validate "${golden[@]}" || fail "operator golden files (rendered objects) invalid"
else
  echo "no tests/operator/golden files: skipped"
fi

step "6. dashboards"
node - "$TOOLS_DIR" deploy/dashboards/*.json <<'JS' || fail "dashboards invalid"
const fs = require("fs");
const files = process.argv.slice(3);
let bad = 0;
const err = (f, m) => { console.error(`INVALID ${f}: ${m}`); bad++; };
for (const f of files) {
  let d;
  try { d = JSON.parse(fs.readFileSync(f, "utf8")); } catch (e) { err(f, `not JSON: ${e.message}`); continue; }
  if (d.schemaVersion !== 39) err(f, `schemaVersion is ${d.schemaVersion}, want 39`);
  if (!d.uid || !d.title) err(f, "uid and title required");
  const vars = (d.templating && d.templating.list) || [];
  const ds = vars.find((v) => v.name === "datasource");
  if (!ds || ds.type !== "datasource" || ds.query !== "prometheus") err(f, "templating needs a `datasource` variable of type datasource (prometheus)");
  for (const v of vars) if (v.type === "query" && (!v.datasource || v.datasource.uid !== "${datasource}")) err(f, `variable ${v.name}: datasource must be \${datasource}`);
  const ids = new Set();
  let panels = 0;
  const walk = (list) => { for (const p of list || []) {
    if (ids.has(p.id)) err(f, `duplicate panel id ${p.id}`); ids.add(p.id);
    if (!p.gridPos) err(f, `panel ${p.id} "${p.title}": gridPos missing`);
    if (p.type === "row") { walk(p.panels); continue; }
    panels++;
    const where = `panel ${p.id} "${p.title}"`;
    if (!p.datasource || p.datasource.uid !== "${datasource}") err(f, `${where}: datasource must be {uid: "\${datasource}"}`);
    if (!Array.isArray(p.targets) || p.targets.length === 0) err(f, `${where}: no targets`);
    for (const t of p.targets || []) {
      if (typeof t.expr !== "string" || !t.expr.trim()) err(f, `${where}: target ${t.refId} has no expr`);
      if (t.datasource && t.datasource.uid !== "${datasource}") err(f, `${where}: target ${t.refId} datasource must be \${datasource}`);
      const open = (t.expr.match(/\(/g) || []).length, close = (t.expr.match(/\)/g) || []).length;
      if (open !== close) err(f, `${where}: target ${t.refId}: unbalanced parentheses`);
    }
  } };
  walk(d.panels);
  if (panels === 0) err(f, "no panels");
  // panels must not overlap on the 24-column grid
  const boxes = [];
  const collect = (list) => { for (const p of list || []) { if (p.gridPos) boxes.push(p); collect(p.panels); } };
  collect(d.panels);
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
    const a = boxes[i].gridPos, b = boxes[j].gridPos;
    if (a.x + a.w > 24) err(f, `panel ${boxes[i].id}: wider than the grid`);
    if (a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h) err(f, `panels ${boxes[i].id} and ${boxes[j].id} overlap`);
  }
  if (!bad) console.log(`dashboard ${f}: ${panels} panels ok`);
}
process.exit(bad ? 1 : 0);
JS
# Every PromQL expression of the dashboards must parse: promtool checks them as recording rules.
node - deploy/dashboards/*.json >"$SCRATCH/dashboard-exprs.yml" <<'JS'
const fs = require("fs");
const out = ["groups:", "  - name: dashboard-exprs", "    rules:"];
let n = 0;
for (const f of process.argv.slice(2)) {
  const d = JSON.parse(fs.readFileSync(f, "utf8"));
  const walk = (list) => { for (const p of list || []) { walk(p.panels); for (const t of p.targets || []) {
    const expr = t.expr.replace(/\$__rate_interval/g, "5m").replace(/\$(namespace|group|member|dledgergroup)/g, "x");
    out.push(`      - record: dashboard:expr_${n++}`, `        expr: ${JSON.stringify(expr)}`);
  } } };
  walk(d.panels);
}
console.log(out.join("\n"));
JS
promtool check rules "$SCRATCH/dashboard-exprs.yml" >"$SCRATCH/dash-promtool.log" 2>&1 ||
  { cat "$SCRATCH/dash-promtool.log" >&2; fail "a dashboard PromQL expression does not parse"; }

step "7. promtool"
promtool check rules deploy/monitoring/rules/dledger.rules.yml || fail "promtool check rules"
promtool test rules tests/packaging/alerts_test.yml || fail "promtool test rules"

# PrometheusRules rendered by the chart and in deploy/: their spec must be a valid rules file.
n_rules=0
for f in "$SCRATCH"/rendered-*.yaml deploy/monitoring/prometheusrule.yaml; do
  # shellcheck disable=SC2016  # JavaScript template literals, not shell
  node -e '
    const { createRequire } = require("module");
    const YAML = createRequire(process.argv[1] + "/package.json")("yaml");
    const fs = require("fs");
    let i = 0;
    for (const d of YAML.parseAllDocuments(fs.readFileSync(process.argv[2], "utf8"))) {
      const o = d.toJS();
      if (o && o.kind === "PrometheusRule") fs.writeFileSync(`${process.argv[3]}-${i++}.yml`, YAML.stringify(o.spec));
    }' "$TOOLS_DIR" "$f" "$SCRATCH/promrule-$(basename "$f" .yaml)" || fail "cannot read $f"
done
for r in "$SCRATCH"/promrule-*.yml; do
  [ -e "$r" ] || continue
  n_rules=$((n_rules + 1))
  promtool check rules "$r" >"$SCRATCH/promrule.log" 2>&1 || { cat "$SCRATCH/promrule.log" >&2; fail "PrometheusRule spec invalid ($r)"; }
done
echo "PrometheusRule objects checked with promtool: $n_rules"
[ "$n_rules" -ge 2 ] || fail "expected PrometheusRules from deploy/ and from the chart (values-five-replicas-monitoring.yaml)"

step "8. Dockerfile"
tests/packaging/check-dockerfile.sh Dockerfile .dockerignore || fail "Dockerfile structure"

step "9. docs/configuration.md"
python3 tests/packaging/check_docs.py --root "$ROOT" || fail "docs/configuration.md out of date (tests/packaging/check_docs.py)"

echo
if [ ${#failures[@]} -gt 0 ]; then
  echo "check-manifests: ${#failures[@]} check(s) FAILED:" >&2
  for f in "${failures[@]}"; do echo "  - $f" >&2; done
  exit 1
fi
echo "check-manifests: all checks passed"
