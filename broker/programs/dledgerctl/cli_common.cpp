#include "broker/programs/dledgerctl/cli_common.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <ostream>
#include <sstream>

#include "broker/admin/admin_json.h"

namespace dledger::ctl {

std::vector<std::string> split_address_list(const std::string& text) {
  std::vector<std::string> out;
  std::string current;
  for (char c : text) {
    if (c == ';' || c == ',' || c == ' ') {
      if (!current.empty()) out.push_back(current);
      current.clear();
    } else {
      current.push_back(c);
    }
  }
  if (!current.empty()) out.push_back(current);
  return out;
}

std::string render_columns(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths;
  for (const auto& row : rows) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::ostringstream text;
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < row.size(); ++i) {
      text << row[i];
      if (i + 1 < row.size()) text << std::string(widths[i] - row[i].size() + 2, ' ');
    }
    text << "\n";
  }
  return text.str();
}

Result<std::vector<std::string>> CommonOptions::addresses() const {
  std::vector<std::string> raw;
  for (const std::string& item : admin) {
    for (std::string& address : split_address_list(item)) raw.push_back(std::move(address));
  }
  for (std::string& address : split_address_list(admins)) raw.push_back(std::move(address));
  if (raw.empty()) raw.emplace_back(kDefaultAdmin);
  std::vector<std::string> unique;
  for (std::string& address : raw) {
    if (address.rfind("http://", 0) == 0) address = address.substr(7);
    while (!address.empty() && address.back() == '/') address.pop_back();
    if (Status valid = admin::validate_host_port(address, "--admin"); !valid.ok()) {
      return valid.error();
    }
    if (std::find(unique.begin(), unique.end(), address) == unique.end()) {
      unique.push_back(address);
    }
  }
  return unique;
}

admin::AdminClientOptions CommonOptions::client_options(int default_timeout_ms) const {
  admin::AdminClientOptions options;
  options.timeout = std::chrono::milliseconds(timeout_ms > 0 ? timeout_ms : default_timeout_ms);
  options.token = token;
  return options;
}

int finish_change(const CommonOptions& options, const Result<admin::ChangeResult>& result,
                  const std::string& what, std::ostream& out, std::ostream& err) {
  if (!result.ok()) return report_error(err, result.error());
  if (options.json) {
    out << admin::change_to_json(*result).dump() << "\n";
  } else {
    out << what << " at index " << result->index << ", term " << result->term << "\n";
  }
  return kExitOk;
}

bool valid_id_flag(const std::string& command, const std::string& flag, const std::string& id,
                   std::ostream& err) {
  Status valid = admin::validate_member_id(id, flag);
  if (!valid.ok()) err << "dledgerctl " << command << ": " << valid.error().message << "\n";
  return valid.ok();
}

std::string format_unix_ms(std::int64_t unix_ms) {
  if (unix_ms <= 0) return "-";
  const std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm utc{};
  if (::gmtime_r(&seconds, &utc) == nullptr) return "-";
  char text[96];
  std::snprintf(text, sizeof(text), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>(unix_ms % 1000));
  return text;
}

int report_error(std::ostream& err, const Error& error) {
  err << "dledgerctl: " << error_code_name(error.code) << ": " << error.message << "\n";
  return kExitFailed;
}

}  // namespace dledger::ctl
