// Broken and unsupported deployed files each get their own clear error.
// The files are made here from the real tiny_parity.pt.
#include <gtest/gtest.h>

#include "error.hpp"
#include "io/deployed.hpp"
#include "model_file.hpp"
#include "reference.hpp"
#include "test_deployed_files.hpp"

namespace {

using flashtp::test::read_file;
using flashtp::test::reference_path;
using flashtp::test::rewrite_zip;
using flashtp::test::write_file;

const std::string& dir() {
  static const std::string d = flashtp::test::temp_dir("deployed_errors");
  return d;
}

std::string tiny() { return reference_path("models/tiny_parity.pt"); }

// The error message of loading `path`, "" if it loads.
std::string load_error(const std::string& path) {
  try {
    flashtp::load_model(path);
  } catch (const flashtp::Error& e) {
    return e.what();
  }
  return "";
}

// tiny_parity.pt with every entry whose name ends with `suffix` replaced by `bytes`.
std::string with_entry(const std::string& file, const std::string& suffix, const std::string& bytes) {
  const std::string path = dir() + "/" + file;
  rewrite_zip(tiny(), path, [&](const std::string& name, std::string& data) {
    if (name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) data = bytes;
    return true;
  });
  return path;
}

// tiny_parity.pt with `from` replaced by `to` in its code.
std::string with_code_edit(const std::string& file, const std::string& from, const std::string& to) {
  const std::string path = dir() + "/" + file;
  rewrite_zip(tiny(), path, [&](const std::string& name, std::string& data) {
    if (name.size() > 3 && name.compare(name.size() - 3, 3, ".py") == 0)
      for (size_t at = data.find(from); at != std::string::npos; at = data.find(from, at + to.size()))
        data.replace(at, from.size(), to);
    return true;
  });
  return path;
}

#define EXPECT_ERROR(path, text) EXPECT_NE(load_error(path).find(text), std::string::npos) << load_error(path)

TEST(DeployedErrors, RewrittenCopyStillLoads) {
  // The rewriting itself keeps a model intact: every test below changes one thing.
  const std::string path = dir() + "/copy.pt";
  rewrite_zip(tiny(), path, [](const std::string&, std::string&) { return true; });
  EXPECT_EQ(load_error(path), "");
}

TEST(DeployedErrors, NotAZip) {
  write_file(dir() + "/text.pt", "def forward(x): return x\n");
  EXPECT_ERROR(dir() + "/text.pt", "neither a SevenNet checkpoint");
}

TEST(DeployedErrors, Truncated) {
  const std::string bytes = read_file(tiny());
  write_file(dir() + "/truncated.pt", bytes.substr(0, bytes.size() / 2));
  EXPECT_ERROR(dir() + "/truncated.pt", "truncated");
}

TEST(DeployedErrors, FlippedByteInAWeight) {
  // Stored entries: the bytes of constants/2 appear as they are in the file.
  std::string bytes = read_file(tiny());
  const std::string weight = flashtp::io::ZipArchive(tiny()).read("tiny_parity/constants/2");
  const size_t at = bytes.find(weight);
  ASSERT_NE(at, std::string::npos);
  bytes[at + weight.size() / 2] ^= 0x40;
  write_file(dir() + "/flipped.pt", bytes);
  EXPECT_ERROR(dir() + "/flipped.pt", "constants/2' is corrupt");
}

TEST(DeployedErrors, WeightStorageCutShort) {
  const std::string weight = flashtp::io::ZipArchive(tiny()).read("tiny_parity/constants/2");
  EXPECT_ERROR(with_entry("short_storage.pt", "/constants/2", weight.substr(0, 100)), "storage");
}

TEST(DeployedErrors, DeployedWithFlashTP) {
  EXPECT_ERROR(with_entry("flash.pt", "/extra/flashTP", "yes"), "FlashTP");
}

TEST(DeployedErrors, DeployedWithOpenEquivariance) {
  EXPECT_ERROR(with_entry("oeq.pt", "/extra/oeq", "yes"), "OpenEquivariance");
}

TEST(DeployedErrors, ParallelDeployment) {
  const std::string path = dir() + "/parallel.pt";
  rewrite_zip(tiny(), path, [](const std::string&, std::string&) { return true; },
              {{"tiny_parity/extra/comm_size", "32"}});
  EXPECT_ERROR(path, "parallel deployment");
}

TEST(DeployedErrors, OtherModelType) {
  EXPECT_ERROR(with_entry("type.pt", "/extra/model_type", "SomeOtherModel"), "model_type 'SomeOtherModel'");
}

TEST(DeployedErrors, UnknownElement) {
  EXPECT_ERROR(with_entry("element.pt", "/extra/chemical_symbols_to_index", "O Xq Hf "), "unknown element 'Xq'");
}

TEST(DeployedErrors, NoSevenNetMetadata) {
  const std::string path = dir() + "/no_metadata.pt";
  rewrite_zip(tiny(), path, [](const std::string& name, std::string&) {
    return name.find("/extra/chemical_symbols_to_index") == std::string::npos;
  });
  EXPECT_ERROR(path, "SevenNet's metadata");
}

TEST(DeployedErrors, MultiModalModel) {
  EXPECT_ERROR(with_code_edit("modal.pt", "\"atom_type\"", "\"modal_type\""), "multi-modal");
}

TEST(DeployedErrors, AcceleratedKernels) {
  EXPECT_ERROR(with_code_edit("kernel.pt", "torch.silu(", "ops.flashtp.silu("), "custom operator ops.flashtp.silu");
}

TEST(DeployedErrors, NotASevenNetModel) {
  const std::string path = dir() + "/other.pt";
  rewrite_zip(tiny(), path, [](const std::string& name, std::string&) { return name.find("/code/") == std::string::npos; },
              {{"tiny_parity/code/__torch__/mynet/model.py", "class Model(Module):\n  pass\n"}});
  EXPECT_ERROR(path, "not of a SevenNet model");
}

TEST(DeployedErrors, CodeThatNoArchitectureMatches) {
  // The embedding's normalisation 1/sqrt(3) changed: the weights no longer fit any SevenNet layout.
  const std::string message = load_error(with_code_edit("changed.pt", "0.57735026918962573", "0.5"));
  EXPECT_NE(message.find("no SevenNet architecture matches"), std::string::npos) << message;
  EXPECT_NE(message.find("onehot_to_feature_x"), std::string::npos) << message;
}

TEST(DeployedErrors, CheckpointIsNotADeployedModel) {
  try {
    flashtp::io::read_deployed(reference_path("models/tiny_parity.pth"));
    FAIL() << "read a checkpoint as a deployed model";
  } catch (const flashtp::Error& e) {
    EXPECT_NE(std::string(e.what()).find("checkpoint"), std::string::npos) << e.what();
  }
}

TEST(DeployedErrors, ZipThatIsNotPyTorch) {
  const std::string path = dir() + "/plain.zip";
  rewrite_zip(tiny(), path, [](const std::string&, std::string&) { return false; }, {{"notes/readme.txt", "hello"}});
  try {
    flashtp::io::read_deployed(path);
    FAIL() << "read a plain zip";
  } catch (const flashtp::Error& e) {
    EXPECT_NE(std::string(e.what()).find("not a PyTorch file"), std::string::npos) << e.what();
  }
}

}  // namespace
