#!/usr/bin/env python3
"""A real Prometheus server scrapes a local dledger deployment; every dashboard panel must get data.

What runs, all on 127.0.0.1 with free ports, in --work-dir:
  - dledger-namesrv and a 3-member dledger-broker group "broker-a" (short registration interval);
  - packaging-traffic (tests/packaging/traffic.cpp): sends to two topics and pulls them back through
    the brokers' remoting port for the whole check, then verifies every acknowledged message was
    read back in order;
  - kube-test-apiserver with the DLedgerGroup CRD, namespace "dledger" and DLedgerGroups
    dledger/broker-a and dledger/broker-invalid (breaks a CEL rule the test API server does not
    evaluate, so the operator's validation refuses it and the error metrics get series) applied,
    and dledger-operator reconciling them (so its per-group metrics exist);
  - a kubelet stand-in (in this script) serving kubelet_volume_stats_{capacity,available}_bytes for
    the PVCs data-broker-a-<i>, from statvfs() of each member's data directory: there is no kubelet
    here, and one dashboard panel and the DLedgerDiskFilling alert read these two series;
  - prometheus (Debian package `prometheus`) scraping all of the above every 2 s with the labels a
    Kubernetes scrape through deploy/monitoring/servicemonitor.yaml gives (job "dledger",
    namespace, pod, endpoint "admin"; the operator with honor_labels), and loading
    deploy/monitoring/rules/dledger.rules.yml as its rule file.

Checks (all run; each failure is printed with the panel or rule it concerns; exit 1 if any failed):
  1. every query variable of every dashboard in deploy/dashboards has values (label_values(...) run
     against this Prometheus); the values are substituted (multi-value/include-all variables as
     the regex (a|b|c), as Grafana does), $__rate_interval as 10s;
  2. every query of every panel parses (HTTP API /api/v1/query) and returns at least one series
     with a finite value; polled until all pass or --data-timeout-s, then the failures are listed;
  3. every alert rule of the rules file is loaded, evaluated without error (health "ok"), every
     metric selector it uses matches at least one series (else the alert could never fire), and
     no alert is pending or firing on this healthy group;
  4. the traffic tool exits 0 (no acknowledged message lost or reordered).
Any process that exits early fails the run with the tail of its log.

  prometheus_e2e.py --source-dir REPO --work-dir DIR --broker BIN --namesrv BIN --operator BIN \
      --apiserver BIN --traffic BIN [--prometheus BIN] [--data-timeout-s 45] [--keep]
Exit codes: 0 all checks passed, 1 a check failed, 2 setup failed (missing tool, process died).
"""

import argparse
import http.server
import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

NAMESPACE = "dledger"
GROUP = "broker-a"
INVALID_GROUP = "broker-invalid"
REPLICAS = 3
TOPICS = "orders,payments"
SCRAPE_INTERVAL = "2s"
RATE_INTERVAL = "10s"  # Grafana's $__rate_interval for a 2 s scrape: max(4 x scrape, step + scrape)


class SetupError(Exception):
    pass


def log(message):
    print(f"prometheus-e2e: {message}", flush=True)


def free_ports(count):
    """`count` distinct TCP ports on 127.0.0.1 that were free when asked (bound at once to port 0)."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def http_get(url, timeout=5.0):
    """(status, body text); status 0 when the server cannot be reached."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")
    except (urllib.error.URLError, OSError):
        return 0, ""


def http_post_json(url, obj):
    request = urllib.request.Request(url, data=json.dumps(obj).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


class Processes:
    """Child processes with their logs; stop() ends them (SIGTERM, then SIGKILL after 10 s)."""

    def __init__(self, work_dir):
        self.work_dir = work_dir
        self.children = {}  # name -> (Popen, log path)

    def start(self, name, argv, env=None):
        path = os.path.join(self.work_dir, f"{name}.log")
        out = open(path, "wb")
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=env, cwd=self.work_dir)
        out.close()
        self.children[name] = (proc, path)
        return proc

    def log_tail(self, name, lines=15):
        try:
            with open(self.children[name][1], "rb") as f:
                return "\n".join(f.read().decode("utf-8", "replace").splitlines()[-lines:])
        except OSError:
            return ""

    def check_alive(self):
        for name, (proc, _) in self.children.items():
            if proc.poll() is not None:
                raise SetupError(f"{name} exited with status {proc.returncode}; its log ends with:\n"
                                 f"{self.log_tail(name)}")

    def stop(self, name, sig=signal.SIGTERM):
        proc, _ = self.children[name]
        if proc.poll() is None:
            proc.send_signal(sig)
        try:
            return proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            return proc.wait()

    def stop_all(self):
        for proc, _ in self.children.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for proc, _ in self.children.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def wait_for(what, condition, limit_s, processes):
    """Polls condition() until it returns a truthy value; SetupError after limit_s (a generous
    limit on a shared machine, not an assertion about speed) or when a child process died."""
    deadline = time.monotonic() + limit_s
    while True:
        processes.check_alive()
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise SetupError(f"{what}: not reached within {limit_s} s")
        time.sleep(0.2)


class KubeletStandIn(http.server.ThreadingHTTPServer):
    """Serves the kubelet's volume statistics for the members' data directories (the PVCs
    data-<group>-<i> in Kubernetes), measured with statvfs like the kubelet does."""

    def __init__(self, volumes):
        self.volumes = volumes  # pvc name -> directory

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(handler):  # noqa: N805 (the server is `self` of the outer class)
                lines = ["# TYPE kubelet_volume_stats_capacity_bytes gauge",
                         "# TYPE kubelet_volume_stats_available_bytes gauge"]
                for pvc, directory in sorted(self.volumes.items()):
                    st = os.statvfs(directory)
                    labels = f'namespace="{NAMESPACE}",persistentvolumeclaim="{pvc}"'
                    lines.append(f"kubelet_volume_stats_capacity_bytes{{{labels}}} {st.f_blocks * st.f_frsize}")
                    lines.append(f"kubelet_volume_stats_available_bytes{{{labels}}} {st.f_bavail * st.f_frsize}")
                body = ("\n".join(lines) + "\n").encode()
                handler.send_response(200)
                handler.send_header("Content-Type", "text/plain; version=0.0.4")
                handler.send_header("Content-Length", str(len(body)))
                handler.end_headers()
                handler.wfile.write(body)

            def log_message(handler, *args):  # noqa: N805
                pass

        super().__init__(("127.0.0.1", 0), Handler)


class Prometheus:
    def __init__(self, base_url):
        self.base_url = base_url

    def api(self, path, **params):
        """(ok, data or error text) of a Prometheus HTTP API call."""
        url = f"{self.base_url}{path}?{urllib.parse.urlencode(params, doseq=True)}"
        status, body = http_get(url, timeout=15)
        if status == 0:
            return False, "Prometheus unreachable"
        try:
            doc = json.loads(body)
        except ValueError:
            return False, f"HTTP {status}: {body[:200]}"
        if doc.get("status") != "success":
            return False, f"{doc.get('errorType', 'error')}: {doc.get('error', body[:200])}"
        return True, doc["data"]

    def query(self, expr):
        return self.api("/api/v1/query", query=expr)

    def label_values(self, selector, label):
        now = time.time()
        ok, data = self.api("/api/v1/series", **{"match[]": selector, "start": str(now - 600),
                                                 "end": str(now)})
        if not ok:
            return False, data
        return True, sorted({s[label] for s in data if label in s})


def finite_samples(data):
    """Number of finite sample values in a query result."""
    kind, result = data["resultType"], data["result"]
    if kind == "scalar":
        values = [result[1]]
    elif kind == "vector":
        values = [s["value"][1] for s in result]
    elif kind == "matrix":
        values = [v[1] for s in result for v in s["values"]]
    else:
        return 0
    return sum(1 for v in values if math.isfinite(float(v)))


def describe_empty(data):
    if data["resultType"] in ("vector", "matrix") and not data["result"]:
        return "no series"
    return "only NaN/Inf values (e.g. a quantile or a ratio over no observations)"


# --- dashboards -------------------------------------------------------------------------------

LABEL_VALUES = re.compile(r"^\s*label_values\(\s*(?:(.*),\s*)?([a-zA-Z_][a-zA-Z0-9_]*)\s*\)\s*$", re.S)


def substitute(text, values):
    text = text.replace("$__rate_interval", RATE_INTERVAL).replace("${__rate_interval}", RATE_INTERVAL)
    text = text.replace("$__interval", SCRAPE_INTERVAL).replace("$__range", "5m")
    for name in sorted(values, key=len, reverse=True):
        text = text.replace("${" + name + "}", values[name]).replace("$" + name, values[name])
    return text


def resolve_variables(prom, dashboard_name, dashboard, failures):
    """Runs each query variable against Prometheus, in order; returns name -> substituted text."""
    values = {}
    for var in (dashboard.get("templating") or {}).get("list", []):
        name, kind = var.get("name"), var.get("type")
        if kind == "datasource":
            continue
        if kind != "query":
            failures.append(f"{dashboard_name}: variable {name}: type {kind} is not handled by this check")
            values[name] = ".*"
            continue
        query = var.get("query")
        query = query.get("query", "") if isinstance(query, dict) else (query or "")
        m = LABEL_VALUES.match(substitute(query, values))
        if not m:
            failures.append(f"{dashboard_name}: variable {name}: query {query!r} is not label_values(...)")
            values[name] = ".*"
            continue
        selector, label = m.group(1) or "{" + label_exists(m.group(2)) + "}", m.group(2)
        ok, found = prom.label_values(selector, label)
        if not ok or not found:
            failures.append(f"{dashboard_name}: variable {name}: {query!r} gives no values"
                            f"{'' if ok else ' (' + found + ')'}")
            values[name] = ".*"
            continue
        if var.get("multi") or var.get("includeAll"):
            values[name] = "(" + "|".join(grafana_regex_escape(v) for v in found) + ")"
        else:
            values[name] = found[0]
        log(f"{dashboard_name}: ${name} = {values[name]}  (from {', '.join(found)})")
    return values


def grafana_regex_escape(value):
    """Grafana's escaping of a multi-value variable inside a PromQL regex string: regex
    metacharacters get a backslash, doubled because the regex is a PromQL string literal."""
    return re.sub(r"([\\^$*+?.()|\[\]{}])", r"\\\\\1", value)


def label_exists(label):
    return f'{label}=~".+"'


def dashboard_targets(dashboard):
    def walk(panels):
        for panel in panels or []:
            yield from walk(panel.get("panels"))
            for target in panel.get("targets") or []:
                if target.get("expr"):
                    yield panel, target
    return list(walk(dashboard.get("panels")))


# --- alert rules ------------------------------------------------------------------------------

SELECTOR = re.compile(r'(?<![\w:"])((?:dledger|kubelet)_[a-zA-Z0-9_:]*|up)(?![\w:])(\{[^}]*\})?')


def rule_selectors(query):
    return sorted({m.group(1) + (m.group(2) or "") for m in SELECTOR.finditer(query)})


def rule_problems(prom, wanted):
    """{alert name: [problems]} for the loaded alerting rules, plus missing ones."""
    ok, data = prom.api("/api/v1/rules")
    if not ok:
        return {"(all)": [f"/api/v1/rules failed: {data}"]}
    loaded = {r["name"]: r for g in data["groups"] for r in g["rules"] if r["type"] == "alerting"}
    problems = {name: ["in the rules file but not loaded by Prometheus"] for name in wanted - set(loaded)}
    for name, rule in loaded.items():
        found = []
        if rule.get("health") != "ok":
            found.append(f"health {rule.get('health')}: {rule.get('lastError', '')}".rstrip(": "))
        if rule.get("state") != "inactive":
            active = [a.get("labels", {}) for a in rule.get("alerts", [])]
            found.append(f"{rule.get('state')} on a healthy group: {active}")
        for selector in rule_selectors(rule["query"]):
            ok, result = prom.query(f"count({selector})")
            if not ok:
                found.append(f"selector {selector}: {result}")
            elif not result["result"]:
                found.append(f"selector {selector} matches no series (the alert could never fire)")
        problems[name] = found
    return problems


def check_rules(prom, rules_file, processes, limit_s, failures):
    """Every alert loaded, evaluated without error, each selector matching series, and none
    pending or firing. Polled (until limit_s) because the first evaluation may not have run yet
    and a transient (one slow scrape on a loaded machine) clears once the condition stops
    holding; what is still wrong at the limit is reported."""
    with open(rules_file, encoding="utf-8") as f:
        wanted = set(re.findall(r"^\s*-\s*alert:\s*(\S+)", f.read(), re.M))
    deadline = time.monotonic() + limit_s
    while True:
        processes.check_alive()
        problems = rule_problems(prom, wanted)
        if not any(problems.values()) or time.monotonic() > deadline:
            break
        time.sleep(1)
    for name, found in sorted(problems.items()):
        for p in found:
            failures.append(f"alert {name}: {p}")
        if not found:
            log(f"ok   alert {name}: evaluated, inactive, selectors have series")


# --- the deployment ---------------------------------------------------------------------------

def start_group(args, processes, work):
    namesrv_port, *ports = free_ports(1 + 3 * REPLICAS)
    remoting = ports[0:REPLICAS]
    peer = ports[REPLICAS:2 * REPLICAS]
    admin = ports[2 * REPLICAS:3 * REPLICAS]
    processes.start("namesrv", [args.namesrv, "-p", f"listenPort={namesrv_port}"])
    peers = ";".join(f"n{i}-127.0.0.1:{peer[i]}" for i in range(REPLICAS))
    admin_peers = ";".join(f"n{i}-127.0.0.1:{admin[i]}" for i in range(REPLICAS))
    data_dirs = []
    for i in range(REPLICAS):
        store = os.path.join(work, f"{GROUP}-{i}", "store")
        os.makedirs(store, exist_ok=True)
        data_dirs.append(store)
        conf = os.path.join(work, f"{GROUP}-{i}.conf")
        with open(conf, "w", encoding="utf-8") as f:
            f.write(f"""# member n{i} of {GROUP} (written by tests/packaging/prometheus_e2e.py)
brokerClusterName = DefaultCluster
brokerName = {GROUP}
brokerIP1 = 127.0.0.1
listenPort = {remoting[i]}
namesrvAddr = 127.0.0.1:{namesrv_port}
registerIntervalMs = 2000
storePathRootDir = {store}
dLegerGroup = {GROUP}
dLegerPeers = {peers}
dLegerSelfId = n{i}
segmentBytes = 16777216
adminHost = 127.0.0.1
adminPort = {admin[i]}
adminPeers = {admin_peers}
""")
        processes.start(f"{GROUP}-{i}", [args.broker, "-c", conf])

    def leader():
        for port in admin:
            status, body = http_get(f"http://127.0.0.1:{port}/status", timeout=2)
            if status == 200:
                leader_id = json.loads(body).get("leader_id")
                if leader_id:
                    return leader_id
        return None

    log(f"group {GROUP}: leader {wait_for('a leader in ' + GROUP, leader, 60, processes)}")
    return namesrv_port, remoting, admin, data_dirs


def start_operator(args, processes, work, namesrv_port):
    port_file = os.path.join(work, "apiserver.port")
    kubeconfig = os.path.join(work, "kubeconfig")
    crd = os.path.join(args.source_dir, "deploy/crds/dledger.io_dledgergroups.yaml")
    processes.start("kube-test-apiserver", [args.apiserver, "--port", "0", "--crd", crd,
                                            "--port-file", port_file, "--kubeconfig-out", kubeconfig])

    def api_port():
        try:
            with open(port_file, encoding="utf-8") as f:
                text = f.read().strip()
            return text if text and os.path.exists(kubeconfig) else None
        except OSError:
            return None

    api = f"http://127.0.0.1:{wait_for('kube-test-apiserver port file', api_port, 30, processes)}"
    status, body = http_post_json(f"{api}/api/v1/namespaces",
                                  {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
    if status not in (200, 201, 409):
        raise SetupError(f"creating namespace {NAMESPACE}: HTTP {status} {body[:300]}")
    group = {
        "apiVersion": "dledger.io/v1alpha1", "kind": "DLedgerGroup",
        "metadata": {"name": GROUP, "namespace": NAMESPACE},
        "spec": {"replicas": REPLICAS, "image": "dledger/broker:0.1.0",
                 "nameServer": {"addresses": f"127.0.0.1:{namesrv_port}"}, "storage": {"size": "1Gi"}},
    }
    # A second group breaks a cross-field rule (heartbeat at most half the election timeout) that
    # the CRD states as a CEL rule; the test API server does not evaluate CEL, the operator's own
    # validation refuses it: its failed reconciles feed the error metrics (reason InvalidSpec).
    invalid = {
        "apiVersion": "dledger.io/v1alpha1", "kind": "DLedgerGroup",
        "metadata": {"name": INVALID_GROUP, "namespace": NAMESPACE},
        "spec": {"replicas": REPLICAS, "image": "dledger/broker:0.1.0", "heartbeatIntervalMs": 100,
                 "electionTimeoutMs": {"min": 150, "max": 300}},
    }
    for obj in (group, invalid):
        name = obj["metadata"]["name"]
        status, body = http_post_json(f"{api}/apis/dledger.io/v1alpha1/namespaces/{NAMESPACE}/dledgergroups", obj)
        if status not in (200, 201):
            raise SetupError(f"creating DLedgerGroup {NAMESPACE}/{name}: HTTP {status} {body[:300]}")

    (metrics_port,) = free_ports(1)
    help_text = subprocess.run([args.operator, "--help"], capture_output=True, text=True).stdout
    metrics_flag = (f"--metrics-bind-address=127.0.0.1:{metrics_port}" if "--metrics-bind-address" in help_text
                    else f"--metrics-port={metrics_port}")
    processes.start("dledger-operator", [args.operator, f"--kubeconfig={kubeconfig}",
                                         f"--namespace={NAMESPACE}", metrics_flag])

    def reconciled():
        status, body = http_get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=2)
        return status == 200 and "dledger_group_ready{" in body

    wait_for("the operator's first reconcile of the group (dledger_group_ready)", reconciled, 60, processes)
    log(f"operator reconciled {NAMESPACE}/{GROUP} and {NAMESPACE}/{INVALID_GROUP}; metrics on 127.0.0.1:{metrics_port}")
    return metrics_port


def start_prometheus(args, processes, work, admin, operator_port, kubelet_port):
    (port,) = free_ports(1)
    member_targets = [{"targets": [f"127.0.0.1:{admin[i]}"],
                       "labels": {"namespace": NAMESPACE, "pod": f"{GROUP}-{i}", "endpoint": "admin",
                                  "service": f"{GROUP}-headless"}} for i in range(REPLICAS)]
    config = {
        "global": {"scrape_interval": SCRAPE_INTERVAL, "scrape_timeout": SCRAPE_INTERVAL,
                   "evaluation_interval": SCRAPE_INTERVAL},
        "rule_files": [os.path.join(args.source_dir, "deploy/monitoring/rules/dledger.rules.yml")],
        "scrape_configs": [
            # what deploy/monitoring/servicemonitor.yaml gives: job "dledger" (jobLabel), endpoint "admin"
            {"job_name": "dledger", "static_configs": member_targets},
            # the operator's ServiceMonitor: honorLabels keeps each group's own `namespace`
            {"job_name": "dledger-operator", "honor_labels": True,
             "static_configs": [{"targets": [f"127.0.0.1:{operator_port}"],
                                 "labels": {"namespace": NAMESPACE, "pod": "dledger-operator-0",
                                            "endpoint": "metrics"}}]},
            # kube-prometheus-stack's kubelet job keeps the volume's namespace/persistentvolumeclaim
            {"job_name": "kubelet", "honor_labels": True,
             "static_configs": [{"targets": [f"127.0.0.1:{kubelet_port}"], "labels": {"endpoint": "https-metrics"}}]},
        ],
    }
    path = os.path.join(work, "prometheus.yml")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(config, f, indent=1)  # JSON is YAML
    processes.start("prometheus", [args.prometheus, f"--config.file={path}",
                                   f"--storage.tsdb.path={os.path.join(work, 'tsdb')}",
                                   f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"])
    base = f"http://127.0.0.1:{port}"
    wait_for("Prometheus ready", lambda: http_get(f"{base}/-/ready", timeout=2)[0] == 200, 60, processes)
    prom = Prometheus(base)

    def all_up():
        ok, data = prom.query("up")
        return ok and len(data["result"]) == REPLICAS + 2 and all(s["value"][1] == "1" for s in data["result"])

    wait_for("every scrape target up", all_up, 60, processes)
    log(f"Prometheus on {base}: {REPLICAS + 2} targets up")
    return prom


def check_dashboards(args, prom, processes, failures):
    dash_dir = os.path.join(args.source_dir, "deploy/dashboards")
    dashboards = {}
    for name in sorted(os.listdir(dash_dir)):
        if name.endswith(".json"):
            with open(os.path.join(dash_dir, name), encoding="utf-8") as f:
                dashboards[name] = json.load(f)
    if not dashboards:
        failures.append(f"no dashboards in {dash_dir}")
        return

    # Variables come from series, so wait until every variable has values (or the limit).
    deadline = time.monotonic() + args.data_timeout_s
    while True:
        processes.check_alive()
        var_failures = []
        resolved = {n: resolve_variables(prom, n, d, var_failures) for n, d in dashboards.items()}
        if not var_failures or time.monotonic() > deadline:
            break
        time.sleep(1)
    failures.extend(var_failures)

    queries = []  # (dashboard, panel, target, expr)
    for name, dashboard in dashboards.items():
        for panel, target in dashboard_targets(dashboard):
            queries.append((name, panel, target, substitute(target["expr"], resolved[name])))

    # Rates need a few scrapes; poll until every query has data or the limit, then report.
    while True:
        processes.check_alive()
        results = {}
        for i, (_, _, _, expr) in enumerate(queries):
            ok, data = prom.query(expr)
            if not ok:
                results[i] = f"query failed: {data}"
            elif finite_samples(data) == 0:
                results[i] = describe_empty(data)
            else:
                results[i] = None
        if all(r is None for r in results.values()) or time.monotonic() > deadline:
            break
        time.sleep(1)

    for i, (name, panel, target, expr) in enumerate(queries):
        where = f'{name} panel {panel.get("id")} "{panel.get("title")}" target {target.get("refId")}'
        if results[i] is None:
            log(f"ok   {where}")
        else:
            failures.append(f"{where}: {results[i]}\n        query: {expr}")
    log(f"{len(queries)} panel queries in {len(dashboards)} dashboards checked")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source-dir", required=True)
    parser.add_argument("--work-dir", required=True)
    for program in ("broker", "namesrv", "operator", "apiserver", "traffic"):
        parser.add_argument(f"--{program}", required=True)
    parser.add_argument("--prometheus", default=shutil.which("prometheus") or "/usr/bin/prometheus")
    parser.add_argument("--data-timeout-s", type=float, default=45)
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()

    for name in ("broker", "namesrv", "operator", "apiserver", "traffic", "prometheus"):
        setattr(args, name, os.path.abspath(getattr(args, name)))  # the children run in --work-dir
    for program in (args.broker, args.namesrv, args.operator, args.apiserver, args.traffic, args.prometheus):
        if not (os.path.isfile(program) and os.access(program, os.X_OK)):
            print(f"prometheus-e2e: {program} is not an executable file"
                  f"{' (Debian package prometheus: scripts/install-deps.sh)' if 'prometheus' in program else ''}",
                  file=sys.stderr)
            return 2

    args.source_dir = os.path.abspath(args.source_dir)
    work = os.path.abspath(args.work_dir)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    processes = Processes(work)
    kubelet = None
    failures = []
    try:
        namesrv_port, remoting, admin, data_dirs = start_group(args, processes, work)
        processes.start("packaging-traffic", [args.traffic, "--brokers",
                                              ";".join(f"127.0.0.1:{p}" for p in remoting),
                                              "--topics", TOPICS, "--interval-ms", "20"])
        operator_port = start_operator(args, processes, work, namesrv_port)
        kubelet = KubeletStandIn({f"data-{GROUP}-{i}": d for i, d in enumerate(data_dirs)})
        threading.Thread(target=kubelet.serve_forever, daemon=True).start()
        prom = start_prometheus(args, processes, work, admin, operator_port, kubelet.server_address[1])

        check_dashboards(args, prom, processes, failures)
        check_rules(prom, os.path.join(args.source_dir, "deploy/monitoring/rules/dledger.rules.yml"), processes,
                    args.data_timeout_s, failures)

        processes.check_alive()
        status = processes.stop("packaging-traffic")
        log(f"traffic: {processes.log_tail('packaging-traffic', 3)}")
        if status != 0:
            failures.append(f"packaging-traffic exited with {status}: {processes.log_tail('packaging-traffic', 5)}")
    except SetupError as e:
        print(f"prometheus-e2e: SETUP FAILED: {e}", file=sys.stderr)
        print(f"prometheus-e2e: logs in {work}", file=sys.stderr)
        processes.stop_all()
        return 2
    finally:
        processes.stop_all()
        if kubelet is not None:
            kubelet.shutdown()

    if failures:
        print(f"\nprometheus-e2e: {len(failures)} check(s) FAILED:", file=sys.stderr)
        for f in failures:
            print(f"  - {f}", file=sys.stderr)
        print(f"prometheus-e2e: logs in {work}", file=sys.stderr)
        return 1
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    log("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
