// kube-test-apiserver: serves the test API server on 127.0.0.1 until SIGINT/SIGTERM.
//   kube-test-apiserver --port 0 --crd deploy/crds/dledger.io_dledgergroups.yaml
//       [--port-file PATH] [--kubeconfig-out PATH] [--event-window N] [--bookmark-interval-ms N]
// Prints "listening on 127.0.0.1:<port>" on stdout once ready.
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include "tests/kube/apiserver/api_server.h"

namespace {

int usage(const std::string& problem) {
  std::cerr << "kube-test-apiserver: " << problem
            << "\nusage: kube-test-apiserver [--port N] [--crd FILE]... [--port-file PATH]"
               " [--kubeconfig-out PATH] [--event-window N] [--bookmark-interval-ms N]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  dledger::kube::ApiServerOptions options;
  long port = 0;
  std::string port_file;
  std::string kubeconfig_out;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") return usage("help");
    if (i + 1 >= argc) return usage("missing value for " + flag);
    const std::string value = argv[++i];
    try {
      if (flag == "--port") {
        port = std::stol(value);
        if (port < 0 || port > 65535) return usage("--port out of range: " + value);
      } else if (flag == "--crd") {
        options.crd_paths.push_back(value);
      } else if (flag == "--port-file") {
        port_file = value;
      } else if (flag == "--kubeconfig-out") {
        kubeconfig_out = value;
      } else if (flag == "--event-window") {
        options.event_window = std::stoul(value);
      } else if (flag == "--bookmark-interval-ms") {
        options.bookmark_interval_ms = std::stoi(value);
      } else {
        return usage("unknown flag " + flag);
      }
    } catch (const std::exception&) {
      return usage("bad number for " + flag + ": " + value);
    }
  }

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // threads started below inherit the mask

  auto server = dledger::kube::ApiServer::create(options);
  if (!server.ok()) {
    std::cerr << "kube-test-apiserver: " << server.error().to_string() << "\n";
    return 1;
  }
  auto bound = (*server)->start(static_cast<uint16_t>(port));
  if (!bound.ok()) {
    std::cerr << "kube-test-apiserver: " << bound.error().to_string() << "\n";
    return 1;
  }
  if (!kubeconfig_out.empty()) {
    auto written = dledger::kube::write_kubeconfig(kubeconfig_out, (*server)->base_url());
    if (!written.ok()) {
      std::cerr << "kube-test-apiserver: " << written.error().to_string() << "\n";
      return 1;
    }
  }
  if (!port_file.empty()) {
    // Write then rename so a reader never sees a partial port number.
    const std::string temporary = port_file + ".tmp";
    std::ofstream(temporary) << *bound << "\n";
    if (std::rename(temporary.c_str(), port_file.c_str()) != 0) {
      std::cerr << "kube-test-apiserver: cannot write " << port_file << "\n";
      return 1;
    }
  }
  std::cout << "listening on 127.0.0.1:" << *bound << std::endl;
  int received = 0;
  sigwait(&signals, &received);
  (*server)->stop();
  return 0;
}
