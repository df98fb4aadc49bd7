// The server programs' shared start-up steps (broker/programs/bootstrap/program_bootstrap.h):
// command line, config loading with -p overrides, exit codes, config warnings, stop signals.
#include "broker/programs/bootstrap/program_bootstrap.h"

#include <gtest/gtest.h>
#include <pthread.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace dledger::programs {
namespace {

// A config file in a fresh temporary directory, removed at destruction.
class TempConfig {
 public:
  explicit TempConfig(const std::string& text) {
    static std::atomic<int> sequence{0};
    dir_ = std::filesystem::temp_directory_path() /
           ("program-bootstrap-test-" + std::to_string(::getpid()) + "-" +
            std::to_string(sequence.fetch_add(1)));
    std::filesystem::create_directories(dir_);
    std::ofstream(path()) << text;
  }
  ~TempConfig() { std::filesystem::remove_all(dir_); }
  std::string path() const { return (dir_ / "test.conf").string(); }

 private:
  std::filesystem::path dir_;
};

// Runs parse_command_line on `args` (argv[0] added).
std::optional<int> parse(CLI::App& app, std::vector<std::string> args) {
  args.insert(args.begin(), "program");
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  return parse_command_line(app, static_cast<int>(argv.size()), argv.data());
}

TEST(ProgramCommandLine, ConfigAndRepeatedPropertiesAreCollected) {
  CLI::App app{"test"};
  ConfigSource source;
  add_config_options(app, source, "test.conf", /*config_required=*/true);
  EXPECT_EQ(parse(app, {"-c", "a.conf", "-p", "x=1", "--property", "y=2"}), std::nullopt);
  EXPECT_EQ(source.config_path, "a.conf");
  EXPECT_EQ(source.overrides, (std::vector<std::string>{"x=1", "y=2"}));
}

TEST(ProgramCommandLine, MissingRequiredConfigOrUnknownFlagIsAUsageError) {
  {
    CLI::App app{"test"};
    ConfigSource source;
    add_config_options(app, source, "test.conf", /*config_required=*/true);
    ::testing::internal::CaptureStderr();
    EXPECT_EQ(parse(app, {"-p", "x=1"}), kExitUsage);
    EXPECT_NE(::testing::internal::GetCapturedStderr().find("--config"), std::string::npos);
  }
  {
    CLI::App app{"test"};
    ConfigSource source;
    add_config_options(app, source, "test.conf", /*config_required=*/false);
    ::testing::internal::CaptureStderr();
    EXPECT_EQ(parse(app, {"--no-such-flag"}), kExitUsage);
    ::testing::internal::GetCapturedStderr();
  }
}

TEST(ProgramCommandLine, HelpExitsZeroAndOptionalConfigMayBeOmitted) {
  {
    CLI::App app{"test"};
    ConfigSource source;
    add_config_options(app, source, "test.conf", /*config_required=*/true);
    ::testing::internal::CaptureStdout();
    EXPECT_EQ(parse(app, {"--help"}), kExitOk);
    EXPECT_NE(::testing::internal::GetCapturedStdout().find("-p,--property"), std::string::npos);
  }
  CLI::App app{"test"};
  ConfigSource source;
  add_config_options(app, source, "test.conf", /*config_required=*/false);
  EXPECT_EQ(parse(app, {}), std::nullopt);
  EXPECT_TRUE(source.config_path.empty());
}

TEST(ProgramConfig, OverridesAreAppliedAfterTheFile) {
  TempConfig file("listenPort = 10911\nbrokerName = from-file\n");
  auto props = load_config({file.path(), {"listenPort=20911", "extra=yes"}});
  ASSERT_TRUE(props.ok()) << props.error().to_string();
  EXPECT_EQ(props->raw("listenPort"), "20911");
  EXPECT_EQ(props->raw("brokerName"), "from-file");
  EXPECT_EQ(props->raw("extra"), "yes");
}

TEST(ProgramConfig, NoFileMeansOverridesOnly) {
  auto props = load_config({"", {"listenPort=0"}});
  ASSERT_TRUE(props.ok()) << props.error().to_string();
  EXPECT_EQ(props->raw("listenPort"), "0");
  EXPECT_FALSE(props->has("brokerName"));
}

TEST(ProgramConfig, ErrorsNameTheMissingFileOrTheBadOverride) {
  const std::string missing =
      (std::filesystem::temp_directory_path() / "program-bootstrap-test-missing.conf").string();
  auto no_file = load_config({missing, {}});
  ASSERT_FALSE(no_file.ok());
  EXPECT_NE(no_file.error().message.find(missing), std::string::npos) << no_file.error().message;

  auto bad = load_config({"", {"listenPort=1", "no-equals-sign"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message.rfind("-p no-equals-sign: ", 0), 0u) << bad.error().message;
}

TEST(ProgramConfig, UsageErrorPrintsProgramAndMessageAndReturnsTwo) {
  ::testing::internal::CaptureStderr();
  int code =
      usage_error("dledger-test", make_error(ErrorCode::kInvalidArgument, "listenPort = 'x': bad"));
  EXPECT_EQ(code, kExitUsage);
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "dledger-test: listenPort = 'x': bad\n");
}

TEST(ProgramConfig, LogLevelIsAppliedAndABadOneIsRefusedNamingTheKey) {
  const spdlog::level::level_enum before = spdlog::get_level();
  Properties debug;
  debug.set("logLevel", "debug");
  ASSERT_TRUE(apply_log_level(debug).ok());
  EXPECT_EQ(spdlog::get_level(), spdlog::level::debug);

  Properties bad;
  bad.set("logLevel", "loud");
  Status refused = apply_log_level(bad);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("logLevel"), std::string::npos);
  EXPECT_NE(refused.error().message.find("loud"), std::string::npos);
  EXPECT_EQ(spdlog::get_level(), spdlog::level::debug);  // unchanged by the bad value
  spdlog::set_level(before);
}

TEST(ProgramConfig, WarningsAndUnreadKeysAreLoggedWithTheirOrigin) {
  auto props = Properties::parse("listenPort = 1\ntypoKey = 2\ntypoKey = 3\n", "broker.conf");
  ASSERT_TRUE(props.ok()) << props.error().to_string();
  ASSERT_EQ(props->warnings().size(), 1u);  // typoKey given twice
  ASSERT_TRUE(props->get_int("listenPort", 0, 0, 65535).ok());
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  spdlog::logger logger("bootstrap-test", sink);
  logger.set_pattern("%l %v");
  report_config_warnings(*props, logger);
  const std::string text = out.str();
  EXPECT_NE(text.find("warning unknown key 'typoKey' (" + props->origin("typoKey") + ") ignored"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("unknown key 'listenPort'"), std::string::npos) << text;
  for (const auto& warning : props->warnings()) {
    EXPECT_NE(text.find("warning " + warning), std::string::npos) << text;
  }
}

// Restores the calling thread's signal mask at the end of a test.
class SignalMaskGuard {
 public:
  SignalMaskGuard() { pthread_sigmask(SIG_SETMASK, nullptr, &saved_); }
  ~SignalMaskGuard() { pthread_sigmask(SIG_SETMASK, &saved_, nullptr); }

 private:
  sigset_t saved_{};
};

TEST(StopSignals, BlockedSignalIsTakenByWaitAndNamed) {
  SignalMaskGuard guard;
  StopSignals stop = StopSignals::block();
  ASSERT_EQ(pthread_kill(pthread_self(), SIGTERM), 0);  // pending, not delivered
  EXPECT_EQ(stop.wait(), SIGTERM);
  EXPECT_STREQ(stop_signal_name(SIGTERM), "SIGTERM");
  ASSERT_EQ(pthread_kill(pthread_self(), SIGINT), 0);
  EXPECT_EQ(stop.wait(), SIGINT);
  EXPECT_STREQ(stop_signal_name(SIGINT), "SIGINT");
}

TEST(StopSignals, ThreadsStartedAfterBlockInheritTheMask) {
  SignalMaskGuard guard;
  StopSignals stop = StopSignals::block();
  bool term_blocked = false;
  bool int_blocked = false;
  std::thread worker([&] {
    sigset_t mask;
    pthread_sigmask(SIG_SETMASK, nullptr, &mask);
    term_blocked = sigismember(&mask, SIGTERM) == 1;
    int_blocked = sigismember(&mask, SIGINT) == 1;
  });
  worker.join();
  EXPECT_TRUE(term_blocked);
  EXPECT_TRUE(int_blocked);
  EXPECT_EQ(sigismember(&stop.signals(), SIGTERM), 1);
  EXPECT_EQ(sigismember(&stop.signals(), SIGINT), 1);
}

}  // namespace
}  // namespace dledger::programs
