// Namespace setup done from inside the new namespaces.
#pragma once

#include <exception>
#include <string>
#include <thread>

#include "common/fd.hpp"

namespace minirt {

// A fresh network namespace has only "lo", and it is down.
void bring_up_loopback();
void set_hostname(const std::string& hostname);

// Makes a new network namespace with its loopback up, on a thread of its
// own: the millisecond of kernel work that costs overlaps whatever the
// caller does meanwhile (`run` prepares the container's files). take()
// returns a descriptor to setns(2) into; an empty one if no thread could be
// had (then the container's init makes its namespace itself).
class NetnsMaker {
public:
    NetnsMaker();
    NetnsMaker(const NetnsMaker&) = delete;
    NetnsMaker& operator=(const NetnsMaker&) = delete;
    // Waits for the thread; throws Error if it failed.
    UniqueFd take();

private:
    UniqueFd fd_;
    std::exception_ptr error_;
    std::jthread thread_;  // last: joined before fd_ and error_ go
};

}  // namespace minirt
