// Image references as podman spells them (image/reference.cpp), and the
// SHA-256 that names digests (common/sha256.cpp).
#include <catch2/catch.hpp>

#include "common/error.hpp"
#include "common/sha256.hpp"
#include "image/reference.hpp"

using namespace minirt;

TEST_CASE("image references: registry, port, repository, tag, digest") {
    auto r = parse_reference("busybox");
    CHECK(r.registry.empty());
    CHECK(r.repository == "busybox");
    CHECK(r.tag == "latest");
    CHECK(r.in_registry("docker.io").str() == "docker.io/library/busybox:latest");
    CHECK(r.in_registry("localhost").str() == "localhost/busybox:latest");
    r = parse_reference("127.0.0.1:5000/team/app:1.2");
    CHECK(r.registry == "127.0.0.1:5000");
    CHECK(r.repository == "team/app");
    CHECK(r.tag == "1.2");
    r = parse_reference("localhost/app");
    CHECK(r.registry == "localhost");
    CHECK(r.str() == "localhost/app:latest");
    // A first component without '.', ':' or localhost is part of the repository.
    r = parse_reference("team/app:v1");
    CHECK(r.registry.empty());
    CHECK(r.repository == "team/app");
    std::string d = "sha256:" + std::string(64, 'a');
    r = parse_reference("quay.io/x/y@" + d);
    CHECK(r.tag.empty());
    CHECK(r.digest == d);
    CHECK(r.str() == "quay.io/x/y@" + d);
}

TEST_CASE("image references: what is refused, and why") {
    CHECK_THROWS_WITH(parse_reference(""), Catch::Contains("empty"));
    CHECK_THROWS_WITH(parse_reference("Busybox"), Catch::Contains("lowercase"));
    CHECK_THROWS_WITH(parse_reference("a/../b"), Catch::Contains("lowercase"));
    CHECK_THROWS_WITH(parse_reference("app:t@g"), Catch::Contains("digest"));
    CHECK_THROWS_WITH(parse_reference("app:-x"), Catch::Contains("tag"));
    CHECK_THROWS_WITH(parse_reference("app@sha256:12"), Catch::Contains("64"));
    CHECK_THROWS_WITH(parse_reference("host:5000/"), Catch::Contains("repository"));
    CHECK_FALSE(looks_like_reference("/etc/passwd"));
}

TEST_CASE("sha256: the digests images are named by") {
    CHECK(sha256_digest("") == "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    Sha256 h;
    h.update("a");
    h.update("bc");
    CHECK(h.digest() == "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
