// The headless build (-DSLUICE_UI=OFF): no page is embedded; `/` answers 404.
#include "web/page_assets.hpp"

namespace sluice::web {

std::span<const page_file> page_files() {
    return {};
}

}  // namespace sluice::web
