#include "image/reference.hpp"

#include <algorithm>

#include "common/error.hpp"
#include "common/parse.hpp"

namespace minirt {

namespace {

bool lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// One path component: lowercase letters and digits, separated by one '.',
// one or two '_', or any number of '-' (the distribution spec's grammar).
bool valid_component(const std::string& c) {
    if (c.empty() || !lower_alnum(c.front()) || !lower_alnum(c.back())) return false;
    for (size_t i = 0; i < c.size(); ++i) {
        char ch = c[i];
        if (lower_alnum(ch) || ch == '-') continue;
        if (ch == '.' && lower_alnum(c[i + 1])) continue;
        if (ch == '_' && (lower_alnum(c[i + 1]) || (c[i + 1] == '_' && lower_alnum(c[i + 2])))) {
            if (c[i + 1] == '_') ++i;
            continue;
        }
        return false;
    }
    return true;
}

bool valid_tag(const std::string& t) {
    if (t.empty() || t.size() > 128 || t[0] == '.' || t[0] == '-') return false;
    return std::all_of(t.begin(), t.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-'; });
}

bool valid_registry(const std::string& r) {
    return !r.empty() && std::all_of(r.begin(), r.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':';
    });
}

}  // namespace

std::string ImageReference::str() const {
    std::string s = registry.empty() ? repository : registry + "/" + repository;
    if (!tag.empty()) s += ":" + tag;
    if (!digest.empty()) s += "@" + digest;
    return s;
}

ImageReference ImageReference::in_registry(const std::string& reg) const {
    ImageReference r = *this;
    r.registry = reg;
    if (reg == "docker.io" && r.repository.find('/') == std::string::npos) r.repository = "library/" + r.repository;
    return r;
}

ImageReference parse_reference(const std::string& text) {
    auto bad = [&](const std::string& why) {
        return Error("invalid image reference " + quote_for_message(text) + ": " + why);
    };
    if (text.empty()) throw bad("empty");
    if (text.size() > 255 + 128 + 80) throw bad("too long");
    ImageReference r;
    std::string rest = text;
    if (auto at = rest.find('@'); at != std::string::npos) {
        r.digest = rest.substr(at + 1);
        rest.erase(at);
        if (!r.digest.starts_with("sha256:") || r.digest.size() != 71 ||
            !std::all_of(r.digest.begin() + 7, r.digest.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }))
            throw bad("the digest must be sha256: and 64 lowercase hex digits");
    }
    // A tag follows the last ':' after the last '/' (a ':' before it is a port).
    auto slash = rest.rfind('/');
    auto colon = rest.rfind(':');
    if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
        r.tag = rest.substr(colon + 1);
        rest.erase(colon);
        if (!valid_tag(r.tag)) throw bad("the tag " + quote_for_message(r.tag) + " is not letters, digits, '_', '.' or '-'");
    }
    // The first component names a registry when it has a '.' or a ':', or is localhost.
    auto first = rest.find('/');
    if (first != std::string::npos) {
        std::string head = rest.substr(0, first);
        if (head == "localhost" || head.find('.') != std::string::npos || head.find(':') != std::string::npos) {
            if (!valid_registry(head)) throw bad("the registry " + quote_for_message(head) + " is not a host name");
            r.registry = head;
            rest.erase(0, first + 1);
        }
    }
    if (rest.empty()) throw bad("no repository");
    std::string component;
    for (size_t start = 0;;) {
        auto end = rest.find('/', start);
        component = rest.substr(start, end == std::string::npos ? std::string::npos : end - start);
        if (!valid_component(component))
            throw bad("the name " + quote_for_message(component) +
                      " must be lowercase letters and digits, separated by '.', '_' or '-'");
        if (end == std::string::npos) break;
        start = end + 1;
    }
    r.repository = rest;
    // docker.io's own spellings of itself and of its single names.
    if (r.registry == "index.docker.io" || r.registry == "registry-1.docker.io") r.registry = "docker.io";
    if (r.registry == "docker.io" && r.repository.find('/') == std::string::npos) r.repository = "library/" + r.repository;
    if (r.tag.empty() && r.digest.empty()) r.tag = "latest";
    return r;
}

bool looks_like_reference(const std::string& text) {
    try {
        parse_reference(text);
        return true;
    } catch (const Error&) {
        return false;
    }
}

bool short_name_matches(const ImageReference& have, const ImageReference& want) {
    bool same_repo = have.repository == want.repository || have.repository == "library/" + want.repository ||
                     have.repository.ends_with("/" + want.repository);
    return want.registry.empty() && same_repo && have.tag == want.tag && (want.digest.empty() || have.digest == want.digest);
}

}  // namespace minirt
