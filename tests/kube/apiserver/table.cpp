#include "tests/kube/apiserver/table.h"

#include <ctime>

#include "tests/kube/apiserver/selectors.h"

namespace dledger::kube {

using nlohmann::json;

bool accepts_table(const std::string& accept) {
  return accept.find("as=Table") != std::string::npos;
}

long long seconds_since(const std::string& rfc3339) {
  std::tm utc{};
  if (strptime(rfc3339.c_str(), "%Y-%m-%dT%H:%M:%S", &utc) == nullptr) return 0;
  const long long then = static_cast<long long>(timegm(&utc));
  const long long now = static_cast<long long>(std::time(nullptr));
  return now > then ? now - then : 0;
}

std::string human_age(long long seconds) {
  if (seconds < 0) seconds = 0;
  const long long minutes = seconds / 60;
  const long long hours = minutes / 60;
  const long long days = hours / 24;
  if (seconds < 120) return std::to_string(seconds) + "s";
  if (minutes < 10) {
    return seconds % 60 == 0 ? std::to_string(minutes) + "m"
                             : std::to_string(minutes) + "m" + std::to_string(seconds % 60) + "s";
  }
  if (minutes < 180) return std::to_string(minutes) + "m";
  if (hours < 8) {
    return minutes % 60 == 0 ? std::to_string(hours) + "h"
                             : std::to_string(hours) + "h" + std::to_string(minutes % 60) + "m";
  }
  if (hours < 48) return std::to_string(hours) + "h";
  if (hours < 24 * 8) {
    return hours % 24 == 0 ? std::to_string(days) + "d"
                           : std::to_string(days) + "d" + std::to_string(hours % 24) + "h";
  }
  if (days < 365 * 2) return std::to_string(days) + "d";
  return std::to_string(days / 365) + "y";
}

namespace {

json column(const std::string& name, const std::string& type, const std::string& format) {
  return {{"name", name}, {"type", type}, {"format", format}, {"description", ""}, {"priority", 0}};
}

json age_cell(const json& object) {
  return human_age(seconds_since(object["metadata"].value("creationTimestamp", "")));
}

json pod_ready_cell(const json& pod) {
  int total = 0;
  int ready = 0;
  if (const json* containers = json_at_path(pod, "spec.containers");
      containers != nullptr && containers->is_array()) {
    total = static_cast<int>(containers->size());
  }
  if (const json* statuses = json_at_path(pod, "status.containerStatuses");
      statuses != nullptr && statuses->is_array()) {
    for (const auto& status : *statuses) {
      if (status.value("ready", false)) ++ready;
    }
  }
  return std::to_string(ready) + "/" + std::to_string(total);
}

int pod_restarts(const json& pod) {
  int restarts = 0;
  if (const json* statuses = json_at_path(pod, "status.containerStatuses");
      statuses != nullptr && statuses->is_array()) {
    for (const auto& status : *statuses) restarts += status.value("restartCount", 0);
  }
  return restarts;
}

}  // namespace

json make_table(const ResourceInfo& info, const std::vector<json>& objects,
                const std::string& resource_version, const std::string& include_object) {
  json columns = json::array({column("Name", "string", "name")});
  const bool is_pod = info.group.empty() && info.plural == "pods";
  if (!info.printer_columns.empty()) {
    for (const auto& printer : info.printer_columns) {
      columns.push_back(column(printer.name, printer.type, ""));
    }
  } else if (is_pod) {
    columns.push_back(column("Ready", "string", ""));
    columns.push_back(column("Status", "string", ""));
    columns.push_back(column("Restarts", "string", ""));
    columns.push_back(column("Age", "string", ""));
  } else {
    columns.push_back(column("Age", "string", ""));
  }
  json rows = json::array();
  for (const auto& object : objects) {
    json cells = json::array({object["metadata"].value("name", "")});
    if (!info.printer_columns.empty()) {
      for (const auto& printer : info.printer_columns) {
        const json* value = json_at_path(object, printer.json_path);
        if (value == nullptr) {
          cells.push_back(nullptr);
        } else if (printer.type == "date" && value->is_string()) {
          cells.push_back(human_age(seconds_since(value->get<std::string>())));
        } else {
          cells.push_back(*value);
        }
      }
    } else if (is_pod) {
      cells.push_back(pod_ready_cell(object));
      const json* phase = json_at_path(object, "status.phase");
      cells.push_back(phase != nullptr && phase->is_string() ? *phase : json("Pending"));
      cells.push_back(std::to_string(pod_restarts(object)));
      cells.push_back(age_cell(object));
    } else {
      cells.push_back(age_cell(object));
    }
    json row = {{"cells", cells}};
    if (include_object == "Object") {
      row["object"] = object;
    } else if (include_object != "None") {
      row["object"] = {{"kind", "PartialObjectMetadata"},
                       {"apiVersion", "meta.k8s.io/v1"},
                       {"metadata", object["metadata"]}};
    }
    rows.push_back(row);
  }
  return {{"kind", "Table"},
          {"apiVersion", "meta.k8s.io/v1"},
          {"metadata", {{"resourceVersion", resource_version}}},
          {"columnDefinitions", columns},
          {"rows", rows}};
}

}  // namespace dledger::kube
