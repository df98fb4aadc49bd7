#include "tests/operator/e2e/pod_runner.h"

#include <csignal>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include "broker/admin/admin_client.h"

namespace dledger::e2e {

namespace kube = op::kube;
using nlohmann::json;

namespace {

constexpr const char* kRevisionLabel = "controller-revision-hash";

// "<sts>-<FNV-1a 32 of the template's JSON, 8 hex digits>": stable for one template, new for a
// changed one (the real controller hashes its ControllerRevision the same way in spirit).
std::string revision_of(const std::string& sts, const json& pod_template) {
  std::uint32_t hash = 2166136261u;
  for (const unsigned char byte : pod_template.dump()) {
    hash ^= byte;
    hash *= 16777619u;
  }
  char hex[9];
  std::snprintf(hex, sizeof hex, "%08x", hash);
  return sts + "-" + hex;
}

}  // namespace

struct PodRunner::StatefulSetView {
  std::string name;
  std::string uid;
  std::int64_t generation = 0;  // metadata.generation of the object this view was read from
  std::string revision;         // of spec.template (revision_of)
  int replicas = 0;
  std::string service_name;
  std::string config_map;
  std::uint16_t admin_port = 0;
  json pod_template;
  json claim_templates = json::array();
  std::map<std::string, std::string> claim_mount_paths;  // claim name -> mountPath

  static Result<StatefulSetView> from(const json& sts) {
    StatefulSetView view;
    const json& meta = sts.value("metadata", json::object());
    const json& spec = sts.value("spec", json::object());
    view.name = meta.value("name", "");
    view.uid = meta.value("uid", "");
    view.generation = meta.value("generation", std::int64_t{1});
    view.replicas = spec.value("replicas", 1);
    view.service_name = spec.value("serviceName", "");
    view.pod_template = spec.value("template", json::object());
    view.revision = revision_of(view.name, view.pod_template);
    view.claim_templates = spec.value("volumeClaimTemplates", json::array());
    const json pod_spec = view.pod_template.value("spec", json::object());
    for (const auto& volume : pod_spec.value("volumes", json::array())) {
      if (volume.value("name", "") == "config" && volume.contains("configMap")) {
        view.config_map = volume["configMap"].value("name", "");
      }
    }
    const json containers = pod_spec.value("containers", json::array());
    if (view.name.empty() || containers.empty() || view.config_map.empty()) {
      return Error{ErrorCode::kInvalidArgument,
                   "StatefulSet '" + view.name +
                       "': needs a name, a container and a volume 'config' from a ConfigMap"};
    }
    for (const auto& port : containers[0].value("ports", json::array())) {
      if (port.value("name", "") == "admin") {
        view.admin_port = static_cast<std::uint16_t>(port.value("containerPort", 0));
      }
    }
    for (const auto& mount : containers[0].value("volumeMounts", json::array())) {
      view.claim_mount_paths[mount.value("name", "")] = mount.value("mountPath", "");
    }
    return view;
  }

  std::string pod_name(int ordinal) const { return name + "-" + std::to_string(ordinal); }
  std::string pvc_name(const json& claim, int ordinal) const {
    return claim["metadata"].value("name", "") + "-" + pod_name(ordinal);
  }
};

namespace {

std::string rfc3339_now() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

// Ordinal of `pod_name` if it is "<sts>-<digits>", else -1.
int ordinal_of(const std::string& sts, const std::string& pod_name) {
  if (pod_name.size() <= sts.size() + 1 || pod_name.compare(0, sts.size() + 1, sts + "-") != 0) {
    return -1;
  }
  const std::string digits = pod_name.substr(sts.size() + 1);
  if (digits.empty() || digits.size() > 3 ||
      digits.find_first_not_of("0123456789") != std::string::npos) {
    return -1;
  }
  return std::stoi(digits);
}

std::string owner_stateful_set(const json& object) {
  for (const auto& ref : object["metadata"].value("ownerReferences", json::array())) {
    if (ref.value("kind", "") == "StatefulSet") return ref.value("name", "");
  }
  return "";
}

// Value of `key` in a broker.conf text ("key=value" lines), or "".
std::string conf_value(const std::string& conf, const std::string& key) {
  std::istringstream lines(conf);
  std::string line;
  std::string value;
  while (std::getline(lines, line)) {
    if (line.rfind(key + "=", 0) == 0) value = line.substr(key.size() + 1);
  }
  return value;
}

std::map<std::string, json> by_name(const std::vector<json>& items) {
  std::map<std::string, json> out;
  for (const auto& item : items) out[item["metadata"].value("name", "")] = item;
  return out;
}

}  // namespace

PodRunner::PodRunner(kube::KubeClient& client, PodRunnerOptions options)
    : client_(client), options_(std::move(options)), next_address_byte_(options_.first_address) {
  std::filesystem::create_directories(options_.work_dir + "/pods");
  std::filesystem::create_directories(options_.work_dir + "/volumes");
}

PodRunner::~PodRunner() {
  stop();
  std::lock_guard lock(mutex_);
  for (auto& [name, pod] : pods_) pod.process.kill();
}

void PodRunner::start() {
  thread_ = std::jthread([this](std::stop_token stop) {
    while (!stop.stop_requested()) {
      if (Status synced = sync_once(); !synced.ok()) {
        std::cerr << "pod runner: " << synced.error().to_string() << "\n";
      }
      const auto until = std::chrono::steady_clock::now() + options_.poll_interval;
      while (!stop.stop_requested() && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
  });
}

void PodRunner::stop() {
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
}

std::string PodRunner::address_of(const std::string& pod_name) {
  auto found = address_byte_.find(pod_name);
  if (found == address_byte_.end()) {
    found = address_byte_.emplace(pod_name, next_address_byte_++).first;
  }
  return "127.0.0." + std::to_string(found->second);
}

std::string PodRunner::admin_address(const std::string& pod_name) {
  return "127.0.0." + std::to_string(address_byte_.at(pod_name)) + ":" +
         std::to_string(admin_ports_[pod_name]);
}

Status PodRunner::write_hosts() {
  std::string lines;
  for (const auto& [pod, names] : dns_names_) {
    lines += "127.0.0." + std::to_string(address_byte_.at(pod)) + " " + names + "\n";
  }
  if (lines == hosts_written_ || options_.hosts_file.empty()) return Status();
  std::ofstream out(options_.hosts_file, std::ios::trunc);
  out << "127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n" << lines;
  out.flush();
  if (!out) return Error{ErrorCode::kIo, "cannot write " + options_.hosts_file};
  hosts_written_ = lines;
  return Status();
}

Status PodRunner::sync_once() {
  const std::string& ns = options_.namespace_name;
  auto stateful_sets = client_.list(kube::resources::kStatefulSets, ns);
  if (!stateful_sets.ok()) return stateful_sets.error();
  auto pod_list = client_.list(kube::resources::kPods, ns);
  if (!pod_list.ok()) return pod_list.error();
  auto pvc_list = client_.list(kube::resources::kPersistentVolumeClaims, ns);
  if (!pvc_list.ok()) return pvc_list.error();
  const auto pods = by_name(pod_list->items);
  const auto pvcs = by_name(pvc_list->items);

  std::vector<StatefulSetView> views;
  std::set<std::string> wanted;  // pod names that should exist
  {
    std::lock_guard lock(mutex_);
    for (const auto& sts : stateful_sets->items) {
      auto view = StatefulSetView::from(sts);
      if (!view.ok()) {
        std::cerr << "pod runner: " << view.error().message << "\n";
        continue;
      }
      for (int i = 0; i < view->replicas; ++i) {
        const std::string pod = view->pod_name(i);
        wanted.insert(pod);
        address_of(pod);
        const std::string dns = pod + "." + view->service_name + "." + ns + ".svc";
        dns_names_[pod] = dns + " " + dns + "." + options_.cluster_domain;
        admin_ports_[pod] = view->admin_port;
      }
      views.push_back(std::move(*view));
    }
    if (Status hosts = write_hosts(); !hosts.ok()) return hosts;
  }

  // Processes whose pod is gone, re-created under a new uid, or no longer wanted.
  std::vector<std::string> to_stop;
  std::vector<std::string>
      deleted_objects;  // to_stop whose ordinal is still wanted: a pod deletion
  {
    std::lock_guard lock(mutex_);
    for (auto& [name, pod] : pods_) {
      auto live = pods.find(name);
      const bool object_gone =
          live == pods.end() || live->second["metadata"].value("uid", "") != pod.uid;
      if (object_gone || !wanted.contains(name)) to_stop.push_back(name);
      if (object_gone && wanted.contains(name)) deleted_objects.push_back(name);
    }
  }
  for (const auto& name : deleted_objects) record_deletion(name);
  for (const auto& name : to_stop) stop_pod(name);

  // Pod objects of ordinals scaled away (or of StatefulSets that are gone).
  for (const auto& [name, pod] : pods) {
    const std::string owner = owner_stateful_set(pod);
    if (owner.empty() || wanted.contains(name)) continue;
    if (ordinal_of(owner, name) < 0) continue;
    Status deleted = client_.delete_object(kube::resources::kPods, ns, name);
    if (!deleted.ok() && !kube::is_not_found(deleted.error())) return deleted;
  }

  for (const auto& view : views) {
    if (Status synced = sync_stateful_set(view, pods, pvcs); !synced.ok()) return synced;
  }
  return Status();
}

Status PodRunner::sync_stateful_set(const StatefulSetView& sts,
                                    const std::map<std::string, json>& pods,
                                    const std::map<std::string, json>& pvcs) {
  const std::string& ns = options_.namespace_name;
  int ready_pods = 0;
  std::string current_revision;
  {
    std::lock_guard lock(mutex_);
    current_revision = current_revisions_.emplace(sts.uid, sts.revision).first->second;
  }
  int updated_pods = 0;
  int current_pods = 0;
  for (int i = 0; i < sts.replicas; ++i) {
    const std::string name = sts.pod_name(i);
    auto live = pods.find(name);
    json pod_object;
    if (live == pods.end()) {
      // Volumes first: a PVC that did not exist is a new, empty volume.
      for (const auto& claim : sts.claim_templates) {
        const std::string pvc = sts.pvc_name(claim, i);
        const std::string dir = options_.work_dir + "/volumes/" + pvc;
        if (!pvcs.contains(pvc)) {
          json object = {{"apiVersion", "v1"},
                         {"kind", "PersistentVolumeClaim"},
                         {"metadata",
                          {{"name", pvc},
                           {"namespace", ns},
                           {"labels", claim["metadata"].value("labels", json::object())}}},
                         {"spec", claim.value("spec", json::object())}};
          auto created = client_.create(kube::resources::kPersistentVolumeClaims, ns, object);
          if (!created.ok() && !kube::is_conflict(created.error())) return created.error();
          std::filesystem::remove_all(dir);
        }
        std::filesystem::create_directories(dir);
      }
      json spec = sts.pod_template.value("spec", json::object());
      spec["hostname"] = name;
      spec["subdomain"] = sts.service_name;
      for (const auto& claim : sts.claim_templates) {
        spec["volumes"].push_back(
            {{"name", claim["metadata"].value("name", "")},
             {"persistentVolumeClaim", {{"claimName", sts.pvc_name(claim, i)}}}});
      }
      json labels = sts.pod_template["metadata"].value("labels", json::object());
      labels[kRevisionLabel] = sts.revision;
      labels["statefulset.kubernetes.io/pod-name"] = name;
      labels["apps.kubernetes.io/pod-index"] = std::to_string(i);
      json object = {
          {"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata",
           {{"name", name},
            {"namespace", ns},
            {"labels", labels},
            {"annotations", sts.pod_template["metadata"].value("annotations", json::object())},
            {"ownerReferences",
             {{{"apiVersion", "apps/v1"},
               {"kind", "StatefulSet"},
               {"name", sts.name},
               {"uid", sts.uid},
               {"controller", true},
               {"blockOwnerDeletion", true}}}}}},
          {"spec", spec}};
      auto created = client_.create(kube::resources::kPods, ns, object);
      if (!created.ok()) return created.error();
      pod_object = *created;
    } else {
      pod_object = live->second;
    }
    const std::string uid = pod_object["metadata"].value("uid", "");
    const std::string revision =
        pod_object["metadata"].value("labels", json::object()).value(kRevisionLabel, "");
    if (revision == sts.revision) ++updated_pods;
    if (revision == current_revision) ++current_pods;
    bool needs_start = false;
    {
      std::lock_guard lock(mutex_);
      auto known = pods_.find(name);
      if (known == pods_.end() || known->second.uid != uid) {
        needs_start = true;
      } else if (!known->second.process.running()) {
        ++known->second.restarts;  // exited on its own: restartPolicy Always
        needs_start = true;
      }
    }
    if (needs_start) {
      if (Status started = start_pod(sts, i, uid, revision); !started.ok()) {
        std::cerr << "pod runner: " << name << ": " << started.error().to_string() << "\n";
      }
    }
    if (Status written = write_pod_status(name, pod_object); !written.ok()) {
      if (!kube::is_conflict(written.error()) && !kube::is_not_found(written.error())) {
        return written;
      }
    }
    std::lock_guard lock(mutex_);
    if (auto found = pods_.find(name); found != pods_.end() && found->second.ready) ++ready_pods;
  }
  // StatefulSet status, as its controller would write it. The rollout is complete (current =
  // update revision) once every pod runs the update revision and is ready.
  if (updated_pods == sts.replicas && ready_pods == sts.replicas &&
      current_revision != sts.revision) {
    current_revision = sts.revision;
    current_pods = updated_pods;
    std::lock_guard lock(mutex_);
    current_revisions_[sts.uid] = current_revision;
  }
  auto live = client_.get(kube::resources::kStatefulSets, ns, sts.name);
  if (!live.ok()) return kube::is_not_found(live.error()) ? Status() : Status(live.error());
  // observedGeneration is the generation of the template this pass hashed, not the live one: a
  // template changed since the list must not be reported as observed with the old revision.
  json status = {{"replicas", sts.replicas},        {"readyReplicas", ready_pods},
                 {"availableReplicas", ready_pods}, {"currentReplicas", current_pods},
                 {"updatedReplicas", updated_pods}, {"currentRevision", current_revision},
                 {"updateRevision", sts.revision},  {"observedGeneration", sts.generation}};
  if ((*live).value("status", json::object()) != status) {
    json updated = *live;
    updated["status"] = status;
    auto written = client_.update_status(kube::resources::kStatefulSets, ns, updated);
    if (!written.ok() && !kube::is_conflict(written.error())) return written.error();
  }
  return Status();
}

Status PodRunner::start_pod(const StatefulSetView& sts, int ordinal, const std::string& uid,
                            const std::string& revision) {
  const std::string& ns = options_.namespace_name;
  const std::string name = sts.pod_name(ordinal);
  auto config_map = client_.get(kube::resources::kConfigMaps, ns, sts.config_map);
  if (!config_map.ok()) return config_map.error();
  const std::string key = "broker-" + std::to_string(ordinal) + ".conf";
  const json data = (*config_map).value("data", json::object());
  if (!data.contains(key)) {
    return Error{ErrorCode::kNotFound, "ConfigMap " + sts.config_map + " has no key " + key};
  }
  const std::string conf = data[key].get<std::string>();
  const std::string pod_dir = options_.work_dir + "/pods/" + name;
  std::filesystem::create_directories(pod_dir);
  {
    std::ofstream out(pod_dir + "/broker.conf", std::ios::trunc);
    out << conf;
    if (!out) return Error{ErrorCode::kIo, "cannot write " + pod_dir + "/broker.conf"};
  }
  std::lock_guard lock(mutex_);
  const std::string ip = address_of(name);
  const int address_byte = address_byte_.at(name);
  std::vector<std::string> argv = {options_.broker_binary, "-c", pod_dir + "/broker.conf"};
  // The data volume: storePathRootDir under a claim's mountPath moves to the claim's directory.
  const std::string store_root = conf_value(conf, "storePathRootDir");
  for (const auto& claim : sts.claim_templates) {
    const std::string claim_name = claim["metadata"].value("name", "");
    auto mount = sts.claim_mount_paths.find(claim_name);
    if (mount == sts.claim_mount_paths.end() || mount->second.empty()) continue;
    if (store_root.rfind(mount->second, 0) == 0) {
      argv.push_back("-p");
      argv.push_back("storePathRootDir=" + options_.work_dir + "/volumes/" +
                     sts.pvc_name(claim, ordinal) + store_root.substr(mount->second.size()));
    }
  }
  const std::string listen_port = std::to_string(options_.remoting_port_base + address_byte);
  for (const std::string& assignment :
       {"adminHost=" + ip, "brokerIP1=" + ip, "listenPort=" + listen_port}) {
    argv.push_back("-p");
    argv.push_back(assignment);
  }
  Pod& pod = pods_[name];
  pod.stateful_set = sts.name;
  pod.ordinal = ordinal;
  pod.uid = uid;
  pod.revision = revision;
  pod.written_status = json();
  pod.ready = false;
  if (Status started = pod.process.start(argv, pod_dir + "/broker.log"); !started.ok()) {
    return started;
  }
  ++starts_[name];
  return Status();
}

void PodRunner::record_deletion(const std::string& name) {
  PodDeletion deletion{.pod = name};
  std::string admin;
  {
    std::lock_guard lock(mutex_);
    auto found = pods_.find(name);
    if (found == pods_.end()) return;
    deletion.revision = found->second.revision;
    admin = admin_address(name);
  }
  admin::AdminClient client(admin::AdminClientOptions{std::chrono::milliseconds(1000), "", false});
  if (auto status = client.status(admin); status.ok()) {
    deletion.self_id = status->self_id;
    deletion.role = status->role;
    deletion.leader_id = status->leader_id;
  }
  std::lock_guard lock(mutex_);
  deletions_.push_back(std::move(deletion));
}

void PodRunner::stop_pod(const std::string& name) {
  ChildProcess process;
  {
    std::lock_guard lock(mutex_);
    auto found = pods_.find(name);
    if (found == pods_.end()) return;
    process = std::move(found->second.process);
    pods_.erase(found);
  }
  process.stop(std::chrono::seconds(10));  // SIGTERM, like the kubelet after preStop
}

Status PodRunner::write_pod_status(const std::string& name, const json& live) {
  std::string admin;
  bool running = false;
  int restarts = 0;
  json previous;
  {
    std::lock_guard lock(mutex_);
    auto found = pods_.find(name);
    if (found == pods_.end()) return Status();
    running = found->second.process.running();
    restarts = found->second.restarts;
    previous = found->second.written_status;
    admin = admin_address(name);
  }
  bool ready = false;
  if (running) {
    admin::AdminClient client(admin::AdminClientOptions{std::chrono::milliseconds(500), "", false});
    auto answer = client.ready(admin);
    ready = answer.ok() && *answer;
  }
  const std::string ip = admin.substr(0, admin.find(':'));
  const std::string flag = ready ? "True" : "False";
  json status = {{"phase", "Running"},
                 {"podIP", ip},
                 {"podIPs", {{{"ip", ip}}}},
                 {"hostIP", "127.0.0.1"},
                 {"conditions",
                  {{{"type", "Ready"}, {"status", flag}},
                   {{"type", "ContainersReady"}, {"status", flag}},
                   {{"type", "PodScheduled"}, {"status", "True"}}}},
                 {"containerStatuses",
                  {{{"name", "broker"},
                    {"ready", ready},
                    {"started", running},
                    {"restartCount", restarts},
                    {"state", running ? json{{"running", json::object()}}
                                      : json{{"waiting", {{"reason", "CrashLoopBackOff"}}}}}}}}};
  if (status == previous) return Status();
  json updated = live;
  json stamped = status;
  const std::string now = rfc3339_now();
  for (auto& condition : stamped["conditions"]) condition["lastTransitionTime"] = now;
  updated["status"] = stamped;
  auto written = client_.update_status(kube::resources::kPods, options_.namespace_name, updated);
  if (!written.ok()) return written.error();
  std::lock_guard lock(mutex_);
  if (auto found = pods_.find(name); found != pods_.end()) {
    found->second.written_status = status;
    found->second.ready = ready;
  }
  return Status();
}

std::optional<PodEndpoint> PodRunner::endpoint(const std::string& pod_name) const {
  std::lock_guard lock(mutex_);
  auto address = address_byte_.find(pod_name);
  if (address == address_byte_.end()) return std::nullopt;
  const std::string ip = "127.0.0." + std::to_string(address->second);
  auto admin_port = admin_ports_.find(pod_name);
  return PodEndpoint{
      ip, ip + ":" + std::to_string(options_.remoting_port_base + address->second),
      ip + ":" + std::to_string(admin_port == admin_ports_.end() ? 0 : admin_port->second)};
}

std::vector<std::string> PodRunner::running_pods() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  for (const auto& [name, pod] : pods_) {
    if (pod.process.pid() > 0) out.push_back(name);
  }
  return out;
}

int PodRunner::starts(const std::string& pod_name) const {
  std::lock_guard lock(mutex_);
  auto found = starts_.find(pod_name);
  return found == starts_.end() ? 0 : found->second;
}

std::string PodRunner::log_path(const std::string& pod_name) const {
  return options_.work_dir + "/pods/" + pod_name + "/broker.log";
}

std::string PodRunner::config_path(const std::string& pod_name) const {
  return options_.work_dir + "/pods/" + pod_name + "/broker.conf";
}

std::vector<PodDeletion> PodRunner::deletions() const {
  std::lock_guard lock(mutex_);
  return deletions_;
}

}  // namespace dledger::e2e
