// flashtp convert, run as a user runs it: the .pt and the .pth of a model give
// the same native file, and a model that is not the original is refused,
// whatever the input (the proof compares the read-back native file with the
// original, or with the model read from a checkpoint).
//
// Needs the path of the flashtp binary (FLASHTP_CLI, set by tests/cli).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>

#include "io/checkpoint.hpp"
#include "io/deployed_canonical.hpp"
#include "io/native.hpp"
#include "model_file.hpp"
#include "reference.hpp"
#include "test_deployed_files.hpp"

namespace {

using flashtp::test::read_file;
using flashtp::test::reference_path;

struct Run {
  int status;
  std::string output;
};

Run flashtp_cli(const std::string& args, const std::string& dir) {
#ifdef FLASHTP_CLI
  const std::string log = dir + "/cli.log";
  const int raw = std::system((std::string(FLASHTP_CLI) + " " + args + " > " + log + " 2>&1").c_str());
  return {WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, read_file(log)};
#else
  (void)args;
  (void)dir;
  return {-1, "FLASHTP_CLI is not defined: add tests/cli to the build"};
#endif
}

#ifdef FLASHTP_CLI
constexpr bool kHaveCli = true;
#else
constexpr bool kHaveCli = false;
#endif

class Convert : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!kHaveCli) GTEST_SKIP() << "the flashtp binary is not known to this test build (tests/cli sets FLASHTP_CLI)";
    dir_ = flashtp::test::temp_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
  }
  std::string dir_;
};

TEST_F(Convert, DeployedAndCheckpointGiveTheSameFile) {
  const auto pt = flashtp_cli("convert " + reference_path("models/tiny_parity.pt") + " -o " + dir_ + "/pt.native", dir_);
  ASSERT_EQ(pt.status, 0) << pt.output;
  const auto pth = flashtp_cli("convert " + reference_path("models/tiny_parity.pth") + " -o " + dir_ + "/pth.native", dir_);
  ASSERT_EQ(pth.status, 0) << pth.output;
  EXPECT_EQ(read_file(dir_ + "/pt.native"), read_file(dir_ + "/pth.native"));
  EXPECT_EQ(flashtp::load_model(dir_ + "/pt.native").species, (std::vector<std::string>{"O", "Zr", "Hf"}));
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/pt.native.converting"));
}

// tiny_parity with one layer's weights 1% off: a plausible, wrong model.
std::string perturbed_native(const std::string& dir) {
  auto source = flashtp::io::canonical_source(flashtp::io::read_checkpoint(reference_path("models/tiny_parity.pth")));
  for (auto& v : source.weights.at("1_self_interaction_1.linear.weight").values) v *= 1.01;
  const std::string path = dir + "/perturbed.native";
  flashtp::io::write_native(path, source);
  return path;
}

TEST_F(Convert, RefusesAPerturbedModel) {
  const std::string bad = perturbed_native(dir_);
  for (const char* original : {"models/tiny_parity.pth", "models/tiny_parity.pt"}) {
    const auto run = flashtp_cli("convert " + reference_path(original) + " --verify " + bad, dir_);
    EXPECT_NE(run.status, 0) << run.output;
    EXPECT_NE(run.output.find("does not reproduce"), std::string::npos) << run.output;
    EXPECT_NE(run.output.find("FAIL"), std::string::npos) << run.output;
  }
}

TEST_F(Convert, AcceptsTheRightModel) {
  const std::string good = dir_ + "/good.native";
  flashtp::io::write_native(good, flashtp::io::canonical_source(
                                      flashtp::io::read_checkpoint(reference_path("models/tiny_parity.pth"))));
  const auto run = flashtp_cli("convert " + reference_path("models/tiny_parity.pt") + " --verify " + good, dir_);
  EXPECT_EQ(run.status, 0) << run.output;
  EXPECT_NE(run.output.find("reproduces"), std::string::npos) << run.output;
}

#ifdef FLASHTP_HAVE_TORCH
TEST_F(Convert, ProvesAgainstLibTorchInBothPrecisions) {
  const auto run = flashtp_cli("convert " + reference_path("models/tiny_parity.pt") + " -o " + dir_ + "/t.native", dir_);
  ASSERT_EQ(run.status, 0) << run.output;
  EXPECT_NE(run.output.find("LibTorch vs flashtp, float32"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("LibTorch vs flashtp, float64"), std::string::npos) << run.output;
}

TEST_F(Convert, WritesNothingWhenTheOriginalDisagrees) {
  // sevennet0_arch has the same species but is another model.
  const std::string out = dir_ + "/out.native";
  const auto run = flashtp_cli("convert " + reference_path("models/tiny_parity.pth") + " -o " + out + " --oracle " +
                                   reference_path("models/sevennet0_arch.pt"),
                               dir_);
  EXPECT_NE(run.status, 0) << run.output;
  EXPECT_NE(run.output.find("refusing to write"), std::string::npos) << run.output;
  EXPECT_FALSE(std::filesystem::exists(out));
  EXPECT_FALSE(std::filesystem::exists(out + ".converting"));
}
#endif

}  // namespace
