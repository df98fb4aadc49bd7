// WATCH: a chunked HTTP/1.1 stream of `{"type":...,"object":...}` lines.
//   resourceVersion unset or "0": ADDED for every current match, then changes.
//   resourceVersion N: changes after N; N older than the retained window -> one ERROR event
//   carrying a 410 Expired Status, then the stream ends (what a real server does).
//   allowWatchBookmarks=true: BOOKMARK events every ApiServerOptions::bookmark_interval_ms.
//   timeoutSeconds: the stream ends cleanly after that long.
// With selectors, a MODIFIED object that starts matching is sent as ADDED and one that stops
// matching as DELETED, like a real server.
#include <algorithm>

#include "tests/kube/apiserver/api_server.h"
#include "tests/kube/apiserver/selectors.h"
#include "tests/kube/apiserver/table.h"

namespace dledger::kube {

using nlohmann::json;

void ApiServer::handle_watch(const HttpRequest& request, const Target& target,
                             HttpResponseWriter& writer) {
  const ResourceInfo& info = *target.info;
  auto labels = Selector::parse_labels(request.query_value("labelSelector"));
  auto fields = Selector::parse_fields(request.query_value("fieldSelector"));
  if (!labels || !fields) {
    send_error(writer, bad_request("invalid label or field selector"));
    return;
  }
  const std::string rv_text = request.query_value("resourceVersion");
  uint64_t after_rv = 0;
  const bool from_now = rv_text.empty() || rv_text == "0";
  if (!from_now) {
    try {
      size_t used = 0;
      after_rv = std::stoull(rv_text, &used);
      if (used != rv_text.size()) throw std::invalid_argument("trailing characters");
    } catch (const std::exception&) {
      send_error(writer, bad_request("invalid resourceVersion \"" + rv_text + "\""));
      return;
    }
  }
  using Clock = std::chrono::steady_clock;
  const Clock::time_point started = Clock::now();
  Clock::time_point end = Clock::time_point::max();
  const std::string timeout_text = request.query_value("timeoutSeconds");
  if (!timeout_text.empty()) {
    try {
      end = started + std::chrono::seconds(std::max(0LL, std::stoll(timeout_text)));
    } catch (const std::exception&) {
      send_error(writer, bad_request("invalid timeoutSeconds \"" + timeout_text + "\""));
      return;
    }
  }
  const bool bookmarks = request.query_value("allowWatchBookmarks") == "true";
  const auto bookmark_interval = std::chrono::milliseconds(options_.bookmark_interval_ms);
  const bool as_table = accepts_table(request.header("accept"));
  const std::string include_object = request.query_value("includeObject");

  auto matches = [&](const json& object) {
    return labels->matches_labels(object) && fields->matches_fields(object);
  };
  auto encode = [&](const std::string& type, const json& object) {
    json payload = as_table
                       ? make_table(info, {object}, object["metadata"].value("resourceVersion", ""),
                                    include_object)
                       : object;
    return json{{"type", type}, {"object", payload}}.dump() + "\n";
  };

  struct ActiveWatch {
    std::atomic<int>& count;
    explicit ActiveWatch(std::atomic<int>& counter) : count(counter) { ++count; }
    ~ActiveWatch() { --count; }
  } active(active_watches_);
  const uint64_t epoch = watch_epoch_.load();
  if (!writer.begin_stream(200, "application/json")) return;
  if (from_now) {
    for (const auto& object : store_.list(info.id(), target.ns, &after_rv)) {
      if (matches(object) && !writer.write_chunk(encode("ADDED", object))) return;
    }
  }
  Clock::time_point next_bookmark = Clock::now() + bookmark_interval;
  const std::string id = info.id();
  const std::string ns = target.ns;
  auto filter = [&](const WatchEvent& event) {
    return event.resource_id == id && (ns.empty() || event.ns == ns);
  };
  const std::atomic<bool>& cancelled = stopping_;
  bool closing = false;
  while (!stopping_) {
    // After close_watches(): one last non-blocking pass flushes already committed events.
    closing = watch_epoch_.load() != epoch;
    Clock::time_point wake = std::min(end, Clock::now() + std::chrono::seconds(1));
    if (closing) wake = Clock::now();
    if (bookmarks) wake = std::min(wake, next_bookmark);
    ObjectStore::WatchBatch batch = store_.wait_for_events(after_rv, filter, wake, cancelled);
    if (batch.expired) {
      const ApiError expired = gone("too old resource version: " + std::to_string(after_rv) + " (" +
                                    std::to_string(store_.oldest_watchable_rv() + 1) + ")");
      writer.write_chunk(json{{"type", "ERROR"}, {"object", expired.to_json()}}.dump() + "\n");
      break;
    }
    for (const auto& event : batch.events) {
      std::string type = event.type;
      const bool now_matches = matches(event.object);
      if (type == "MODIFIED" && event.previous.is_object()) {
        const bool matched_before = matches(event.previous);
        if (!matched_before && !now_matches) continue;
        if (!matched_before) type = "ADDED";
        if (!now_matches) type = "DELETED";
      } else if (!now_matches) {
        continue;
      }
      if (!writer.write_chunk(encode(type, event.object))) return;
    }
    after_rv = batch.next_after_rv;
    const Clock::time_point now = Clock::now();
    if (bookmarks && now >= next_bookmark) {
      const json bookmark = {{"type", "BOOKMARK"},
                             {"object",
                              {{"kind", info.kind},
                               {"apiVersion", info.api_version()},
                               {"metadata", {{"resourceVersion", std::to_string(after_rv)}}}}}};
      if (!writer.write_chunk(bookmark.dump() + "\n")) return;
      next_bookmark = now + bookmark_interval;
    }
    if (now >= end || closing) break;
    if (writer.peer_closed()) return;
  }
  writer.end_stream();
}

}  // namespace dledger::kube
