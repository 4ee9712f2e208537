// The headless build (-DSLUICE_UI=OFF): no page is embedded; `/` and the page's sections answer
// 404 with a line saying so (page_assets.cpp).
#include "web/page_assets.hpp"

namespace sluice::web {

std::span<const page_file> page_files() {
    return {};
}

}  // namespace sluice::web
