#include "common/error.hpp"

#include <cstring>

namespace minirt {

namespace {
std::string join_errno(const std::string& context, int err) {
    if (err == 0) return context;
    return context + ": " + std::strerror(err);
}
}  // namespace

Error::Error(int err, std::string context, int exit_code)
    : Error(err, join_errno(context, err), exit_code, true) {}

Error::Error(std::string message, int exit_code)
    : Error(0, std::move(message), exit_code, true) {}

Error::Error(int err, std::string full, int exit_code, bool)
    : std::system_error(err, std::generic_category()),
      message_(std::move(full)),
      exit_code_(exit_code) {}

Error Error::wrap(const std::string& outer) const {
    return Error(errno_value(), outer + ": " + message_, exit_code_, true);
}

void throw_errno(const std::string& context) { throw Error(errno, context); }

}  // namespace minirt
