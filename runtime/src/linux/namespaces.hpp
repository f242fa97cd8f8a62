// Namespace setup done from inside the new namespaces.
#pragma once

#include <string>

namespace minirt {

// A fresh network namespace has only "lo", and it is down.
void bring_up_loopback();
void set_hostname(const std::string& hostname);

}  // namespace minirt
