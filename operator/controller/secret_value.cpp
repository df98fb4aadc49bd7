#include "operator/controller/secret_value.h"

namespace dledger::op::controller {

Result<std::string> decode_base64(std::string_view text) {
  auto value_of = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1) {
    return make_error(ErrorCode::kInvalidArgument, "not base64: truncated input");
  }
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const int v = value_of(text[i]);
    if (v < 0) {
      return make_error(ErrorCode::kInvalidArgument,
                        "not base64: unexpected character at offset " + std::to_string(i));
    }
    buffer = (buffer << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  return out;
}

Result<std::string> read_secret_value(kube::KubeClient& client, const std::string& ns,
                                      const api::SecretKeyRef& ref) {
  const std::string where = "secret " + ns + "/" + ref.name + " key \"" + ref.key + "\"";
  auto secret = client.get(kube::resources::kSecrets, ns, ref.name);
  if (!secret.ok()) {
    Error error = secret.error();
    error.message = where + ": " + error.message;
    return error;
  }
  const auto& data = secret->value("data", nlohmann::json::object());
  std::string value;
  if (data.is_object() && data.contains(ref.key) && data[ref.key].is_string()) {
    auto decoded = decode_base64(data[ref.key].get<std::string>());
    if (!decoded.ok())
      return make_error(ErrorCode::kInvalidArgument, where + ": " + decoded.error().message);
    value = std::move(*decoded);
  } else {
    const auto& string_data = secret->value("stringData", nlohmann::json::object());
    if (!string_data.is_object() || !string_data.contains(ref.key) ||
        !string_data[ref.key].is_string()) {
      return make_error(ErrorCode::kNotFound, where + ": no such key");
    }
    value = string_data[ref.key].get<std::string>();
  }
  if (value.empty()) return make_error(ErrorCode::kInvalidArgument, where + ": empty value");
  return value;
}

}  // namespace dledger::op::controller
