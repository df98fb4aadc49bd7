// Offline validation of Kubernetes manifests (multi-document YAML files).
//
//   node tests/packaging/validate-manifests.mjs --tools build/tools --crd <crd.yaml> [--crd ...] \
//        [--label <name>] file.yaml ...
//
// Every document must have apiVersion, kind and metadata.name. Then:
//   - built-in kinds (apps/v1, v1, policy/v1, rbac, apiextensions.k8s.io/v1, ...) are validated
//     with kubernetes-models@4 (Kubernetes 1.27 schemas: types, required fields, enums);
//   - custom resources whose CRD is given with --crd (DLedgerGroup) are validated against that
//     CRD's openAPIV3Schema with a small structural JSON-schema check (types, required, enums,
//     bounds, patterns, unknown fields), then the CRD's defaults are applied and its CEL rules
//     (x-kubernetes-validations) evaluated by hand-written equivalents (unknown rules: a warning);
//   - Prometheus-operator kinds (ServiceMonitor, PodMonitor, PrometheusRule) get a structural
//     check of the fields this repository uses;
//   - some rules kubernetes-models does not check: DNS names, label syntax, workload selectors
//     matching their pod template, container port names, unique container ports.
// With --expect-invalid every document must be rejected, and for the reason in its annotation
// `test/expect` (a substring of one message): the negative tests of this checker.
// Prints one line per problem ("file: doc #n Kind/name: path: message") and exits 1 on any.
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

const args = process.argv.slice(2);
let toolsDir = "build/tools";
let expectInvalid = false;  // --expect-invalid: every document must have at least one problem
const crdFiles = [];
const files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--tools") toolsDir = args[++i];
  else if (args[i] === "--crd") crdFiles.push(args[++i]);
  else if (args[i] === "--expect-invalid") expectInvalid = true;
  else files.push(args[i]);
}
if (files.length === 0) {
  console.error("usage: validate-manifests.mjs [--tools DIR] [--crd CRD.yaml] FILE.yaml...");
  process.exit(2);
}
const require = createRequire(path.resolve(toolsDir, "package.json"));
const YAML = require("yaml");

const problems = [];
let checked = 0;
const report = (where, msg) => problems.push(`${where}: ${msg}`);

function loadDocs(file) {
  const text = fs.readFileSync(file, "utf8");
  const docs = YAML.parseAllDocuments(text);
  const out = [];
  docs.forEach((d, i) => {
    if (d.errors.length) {
      report(`${file}: doc #${i + 1}`, `YAML error: ${d.errors[0].message}`);
      return;
    }
    const obj = d.toJS();
    if (obj === null || obj === undefined) return;  // empty document
    out.push({ obj, index: i + 1 });
  });
  return out;
}

// --- CRD schemas by apiVersion/kind -----------------------------------------------------------------
const crdSchemas = new Map();  // "group/version/Kind" -> openAPIV3Schema
for (const f of crdFiles) {
  for (const { obj } of loadDocs(f)) {
    if (obj.kind !== "CustomResourceDefinition") continue;
    for (const v of obj.spec.versions) {
      crdSchemas.set(`${obj.spec.group}/${v.name}/${obj.spec.names.kind}`, v.schema.openAPIV3Schema);
    }
  }
}

// --- small structural schema check (the subset of OpenAPI v3 the CRDs here use) ---------------------------
function typeOf(v) {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (Number.isInteger(v)) return "integer";
  return typeof v;  // string, number, boolean, object
}
function checkSchema(schema, value, p, errs) {
  if (!schema) return;
  const t = typeOf(value);
  if (schema.type) {
    const ok = schema.type === t || (schema.type === "number" && t === "integer");
    if (!ok) {
      errs.push(`${p}: Invalid value: ${JSON.stringify(value)}: must be of type ${schema.type}`);
      return;
    }
  }
  if (schema.enum && !schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) {
    errs.push(`${p}: Unsupported value: ${JSON.stringify(value)}: supported values: ${schema.enum.map((e) => JSON.stringify(e)).join(", ")}`);
  }
  if (t === "integer" || t === "number") {
    if (schema.minimum !== undefined && value < schema.minimum) errs.push(`${p}: Invalid value: ${value}: must be greater than or equal to ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum) errs.push(`${p}: Invalid value: ${value}: must be less than or equal to ${schema.maximum}`);
  }
  if (t === "string") {
    if (schema.minLength !== undefined && value.length < schema.minLength) errs.push(`${p}: Invalid value: "${value}": must be at least ${schema.minLength} characters`);
    if (schema.maxLength !== undefined && value.length > schema.maxLength) errs.push(`${p}: Too long: must have at most ${schema.maxLength} characters`);
    if (schema.pattern && !new RegExp(schema.pattern).test(value)) errs.push(`${p}: Invalid value: "${value}": should match '${schema.pattern}'`);
  }
  if (t === "array" && schema.items) value.forEach((item, i) => checkSchema(schema.items, item, `${p}[${i}]`, errs));
  if (t === "object") {
    for (const r of schema.required || []) if (!(r in value)) errs.push(`${p}.${r}: Required value`);
    if (schema.maxProperties !== undefined && Object.keys(value).length > schema.maxProperties) errs.push(`${p}: Too many: must have at most ${schema.maxProperties} items`);
    const props = schema.properties || {};
    for (const [k, v] of Object.entries(value)) {
      const sub = `${p}${p ? "." : ""}${k}`;
      if (props[k]) checkSchema(props[k], v, sub, errs);
      else if (schema.additionalProperties && typeof schema.additionalProperties === "object") checkSchema(schema.additionalProperties, v, `${p}[${k}]`, errs);
      else if (!schema["x-kubernetes-preserve-unknown-fields"] && !(p === "" && k === "metadata") && schema.properties) errs.push(`${sub}: unknown field (the API server would drop it)`);
    }
  }
}

// Structural defaulting as the API server does it: a missing property with a `default` gets it
// (recursively, so `storage: {}` then gets `storage.size`), before the CEL rules are evaluated.
function applyDefaults(schema, value) {
  if (!schema || typeOf(value) !== "object") return value;
  for (const [k, sub] of Object.entries(schema.properties || {})) {
    if (!(k in value) && sub.default !== undefined) value[k] = JSON.parse(JSON.stringify(sub.default));
    if (k in value) value[k] = applyDefaults(sub, value[k]);
  }
  return value;
}

// The CEL rules (x-kubernetes-validations) this checker knows, by their exact text, as JS over
// the defaulted object. A rule not in this table is reported once as not evaluated (a warning,
// not an error), so a new rule in the CRD is noticed.
const operatorOwnedKeys = ["dLegerPeers", "dLegerSelfId", "dLegerJoining", "adminPeers", "dLegerGroup", "brokerName", "brokerClusterName", "listenPort", "adminPort", "storePathRootDir", "enableDLegerCommitLog", "namesrvAddr", "flushMode", "electionTimeoutMinMs", "electionTimeoutMaxMs", "heartbeatIntervalMs", "preferredLeaderId", "adminToken", "groupSecret"];
const celRules = {
  "self.metadata.name.size() <= 52 && self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$')": (o) => o.metadata.name.length <= 52 && /^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(o.metadata.name),
  "!has(self.preferredLeader) || int(self.preferredLeader.substring(1)) < self.replicas": (o) => o.preferredLeader === undefined || parseInt(o.preferredLeader.substring(1), 10) < o.replicas,
  "self.heartbeatIntervalMs * 2 <= self.electionTimeoutMs.min": (o) => o.heartbeatIntervalMs * 2 <= o.electionTimeoutMs.min,
  "self.ports.peer != self.ports.remoting && self.ports.admin != self.ports.remoting && self.ports.admin != self.ports.peer": (o) => o.ports.peer !== o.ports.remoting && o.ports.admin !== o.ports.remoting && o.ports.admin !== o.ports.peer,
  "self.min < self.max": (o) => o.min < o.max,
  "!(has(self.addresses) && has(self.managed) && self.managed)": (o) => !(o.addresses !== undefined && o.managed === true),
};
const unknownCel = new Set();
function checkCel(schema, value, p, errs) {
  if (!schema || value === undefined) return;
  for (const v of schema["x-kubernetes-validations"] || []) {
    let fn = celRules[v.rule];
    if (!fn && v.rule.startsWith("self.all(k, !(k in [")) fn = (o) => Object.keys(o).every((k) => !operatorOwnedKeys.includes(k));
    if (!fn) {
      unknownCel.add(v.rule);
      continue;
    }
    let ok = false;
    try {
      ok = fn(value);
    } catch (e) {
      ok = false;
    }
    if (!ok) errs.push(`${p}${v.fieldPath || ""}` + `${p || v.fieldPath ? "" : "<object>"}: Invalid value: ${v.message}`);
  }
  if (typeOf(value) === "object") {
    for (const [k, sub] of Object.entries(schema.properties || {})) checkCel(sub, value[k], `${p}${p ? "." : ""}${k}`, errs);
  }
}

// --- extra rules ----------------------------------------------------------------------------------------
const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const labelValue = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const labelName = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
function checkLabels(labels, p, errs) {
  for (const [k, v] of Object.entries(labels || {})) {
    const parts = k.split("/");
    const name = parts.pop();
    const prefix = parts.join("/");
    if (parts.length > 1 || (prefix && (!dns1123Subdomain.test(prefix) || prefix.length > 253)) || !labelName.test(name) || name.length > 63) errs.push(`${p}: invalid label key "${k}"`);
    if (typeof v !== "string") errs.push(`${p}[${k}]: label value must be a string, got ${JSON.stringify(v)}`);
    else if (v.length > 63 || !labelValue.test(v)) errs.push(`${p}[${k}]: invalid label value "${v}"`);
  }
}
function checkPodSpec(spec, p, errs) {
  if (!spec) return;
  for (const c of [...(spec.containers || []), ...(spec.initContainers || [])]) {
    const seen = new Set();
    for (const port of c.ports || []) {
      if (port.name !== undefined && (port.name.length > 15 || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(port.name) || !/[a-z]/.test(port.name))) errs.push(`${p}.containers[${c.name}].ports: invalid port name "${port.name}" (IANA_SVC_NAME, at most 15 characters)`);
      const key = `${port.containerPort}/${port.protocol || "TCP"}`;
      if (seen.has(key)) errs.push(`${p}.containers[${c.name}].ports: duplicate containerPort ${key}`);
      seen.add(key);
    }
    const names = new Set((c.ports || []).map((x) => x.name));
    for (const probe of ["livenessProbe", "readinessProbe", "startupProbe"]) {
      const pr = c[probe];
      const port = pr && ((pr.httpGet && pr.httpGet.port) ?? (pr.tcpSocket && pr.tcpSocket.port));
      if (typeof port === "string" && !names.has(port)) errs.push(`${p}.containers[${c.name}].${probe}: names port "${port}" the container does not declare`);
    }
  }
}
function selectorMatches(selector, labels) {
  return Object.entries(selector || {}).every(([k, v]) => labels && labels[k] === v);
}

// --- validators for built-in kinds ----------------------------------------------------------------------
function builtinModule(apiVersion) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  const mod = group ? `kubernetes-models/${group}/${version}` : `kubernetes-models/${version}`;
  try {
    return require(mod);
  } catch {
    return null;
  }
}

const promKinds = {
  ServiceMonitor: (o, errs) => {
    if (!o.spec || !o.spec.selector) errs.push("spec.selector: Required value");
    if (!Array.isArray(o.spec?.endpoints) || o.spec.endpoints.length === 0) errs.push("spec.endpoints: Required value");
    for (const e of o.spec?.endpoints || []) if (!e.port && !e.targetPort) errs.push("spec.endpoints[]: port or targetPort required");
  },
  PodMonitor: (o, errs) => {
    if (!o.spec || !o.spec.selector) errs.push("spec.selector: Required value");
    if (!Array.isArray(o.spec?.podMetricsEndpoints) || o.spec.podMetricsEndpoints.length === 0) errs.push("spec.podMetricsEndpoints: Required value");
    for (const e of o.spec?.podMetricsEndpoints || []) if (!e.port) errs.push("spec.podMetricsEndpoints[]: port required");
  },
  PrometheusRule: (o, errs) => {
    if (!Array.isArray(o.spec?.groups) || o.spec.groups.length === 0) errs.push("spec.groups: Required value");
    for (const g of o.spec?.groups || []) {
      if (!g.name) errs.push("spec.groups[]: name required");
      for (const r of g.rules || []) {
        if (!(r.alert || r.record)) errs.push(`spec.groups[${g.name}].rules[]: alert or record required`);
        if (typeof r.expr !== "string" || !r.expr.trim()) errs.push(`spec.groups[${g.name}].rules[${r.alert || r.record}]: expr required`);
      }
    }
  },
};

for (const file of files) {
  for (const { obj, index } of loadDocs(file)) {
    const id = `${obj?.kind || "?"}/${obj?.metadata?.name || "?"}`;
    const where = `${file}: doc #${index} ${id}`;
    const errs = [];
    if (typeof obj !== "object" || Array.isArray(obj)) {
      report(where, "document is not a mapping");
      continue;
    }
    if (!obj.apiVersion) errs.push("apiVersion: Required value");
    if (!obj.kind) errs.push("kind: Required value");
    if (!obj.metadata || !obj.metadata.name) errs.push("metadata.name: Required value");
    if (errs.length) {
      if (!expectInvalid) errs.forEach((e) => report(where, e));
      continue;
    }
    const name = obj.metadata.name;
    if (name.length > 253 || !dns1123Subdomain.test(name)) errs.push(`metadata.name: Invalid value: "${name}": must be a DNS-1123 subdomain`);
    if (["Service", "Namespace"].includes(obj.kind) && (name.length > 63 || !dns1123Label.test(name))) errs.push(`metadata.name: Invalid value: "${name}": must be a DNS-1123 label`);
    if (obj.metadata.namespace !== undefined && !dns1123Label.test(String(obj.metadata.namespace))) errs.push(`metadata.namespace: Invalid value: "${obj.metadata.namespace}"`);
    checkLabels(obj.metadata.labels, "metadata.labels", errs);

    const crdKey = `${obj.apiVersion}/${obj.kind}`;
    if (crdSchemas.has(crdKey)) {
      const schema = crdSchemas.get(crdKey);
      checkSchema(schema, obj, "", errs);
      if (!errs.length) checkCel(schema, applyDefaults(schema, JSON.parse(JSON.stringify(obj))), "", errs);
    } else if (promKinds[obj.kind] && obj.apiVersion === "monitoring.coreos.com/v1") {
      promKinds[obj.kind](obj, errs);
    } else {
      const mod = builtinModule(obj.apiVersion);
      if (!mod || !mod[obj.kind]) {
        errs.push(`no validator for ${obj.apiVersion} ${obj.kind} (unknown kind, or its CRD was not given with --crd)`);
      } else {
        try {
          new mod[obj.kind](obj).validate();
        } catch (e) {
          errs.push(String(e.message || e).split("\n").slice(0, 5).join("; "));
        }
      }
    }

    const tmpl = obj.spec && obj.spec.template;
    if (["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"].includes(obj.kind) && tmpl) {
      checkLabels(tmpl.metadata && tmpl.metadata.labels, "spec.template.metadata.labels", errs);
      if (!selectorMatches(obj.spec.selector && obj.spec.selector.matchLabels, tmpl.metadata && tmpl.metadata.labels)) errs.push("spec.selector.matchLabels: does not match spec.template.metadata.labels");
      checkPodSpec(tmpl.spec, "spec.template.spec", errs);
    }
    if (obj.kind === "Pod") checkPodSpec(obj.spec, "spec", errs);
    if (obj.kind === "Service") {
      const names = new Set();
      for (const port of obj.spec?.ports || []) {
        if (names.has(port.name)) errs.push(`spec.ports: duplicate port name "${port.name}"`);
        names.add(port.name);
      }
    }
    if (expectInvalid) {
      const why = (obj.metadata && obj.metadata.annotations && obj.metadata.annotations["test/expect"]) || "";
      if (errs.length === 0) report(where, `accepted, but it is invalid (${why || "no test/expect annotation"})`);
      else if (why && !errs.some((e) => e.includes(why))) report(where, `rejected for other reasons than "${why}": ${errs.join(" | ")}`);
    } else {
      errs.forEach((e) => report(where, e));
    }
    checked++;
  }
}

for (const r of unknownCel) console.error(`validate-manifests: warning: CEL rule not evaluated: ${r}`);
if (problems.length) {
  for (const p of problems) console.error(`INVALID ${p}`);
  console.error(`validate-manifests: ${problems.length} problem(s) in ${files.length} file(s)`);
  process.exit(1);
}
console.log(expectInvalid ? `validate-manifests: ${checked} invalid object(s) in ${files.length} file(s) rejected as expected`
                          : `validate-manifests: ${checked} object(s) in ${files.length} file(s) valid`);
