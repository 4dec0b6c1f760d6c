// whole_file.hpp: the check never blocks and leaves nothing behind, and a
// write that fails leaves neither the file nor its partial one.
#include "whole_file.hpp"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <new>
#include <stdexcept>
#include <string>

namespace {

namespace fs = std::filesystem;

// scratch is a fresh directory, removed with its contents at the end.
struct scratch {
  fs::path dir = make();
  ~scratch() {
    std::error_code ignored;
    fs::remove_all(dir, ignored);
  }

  std::string file(const char* name) const { return (dir / name).string(); }
  bool is_empty() const { return fs::is_empty(dir); }

  static fs::path make() {
    std::string pattern = (fs::temp_directory_path() / "tandem-whole-file-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    return pattern;
  }
};

std::string contents(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string error_of(auto&& call) {
  try {
    call();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

void write_text(const std::string& path, const std::string& text) {
  logstats::write_whole_file(path, [&](std::FILE* file) {
    return std::fwrite(text.data(), 1, text.size(), file) == text.size();
  });
}

}  // namespace

TEST_CASE("check_whole_file() refuses a FIFO at once, without opening it" * doctest::timeout(10)) {
  const scratch s;
  const std::string fifo = s.file("report.txt");
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  CHECK(error_of([&] { logstats::check_whole_file(fifo); }) ==
        "cannot write " + fifo +
            ": not a regular file (the file is written beside it and renamed over it)");
  CHECK(fs::is_fifo(fifo));
  CHECK(!fs::exists(fifo + ".partial"));
}

TEST_CASE("check_whole_file() names the path and the reason, and creates nothing" *
          doctest::timeout(10)) {
  const scratch s;
  const std::string missing = s.file("missing/report.txt");
  CHECK(error_of([&] { logstats::check_whole_file(missing); }) ==
        "cannot write " + missing + ": No such file or directory");
  CHECK_NOTHROW(logstats::check_whole_file(s.file("report.txt")));
  CHECK(s.is_empty());
}

TEST_CASE("write_whole_file() writes the file whole and leaves no partial one" *
          doctest::timeout(10)) {
  const scratch s;
  const std::string path = s.file("report.txt");
  write_text(path, "first\n");
  write_text(path, "second\n");
  CHECK(contents(path) == "second\n");
  CHECK(!fs::exists(path + ".partial"));
}

TEST_CASE("a failed write_whole_file() leaves the earlier file as it was, and no partial one" *
          doctest::timeout(10)) {
  const scratch s;
  const std::string path = s.file("report.txt");
  write_text(path, "earlier\n");
  const auto fail_writing = [](std::FILE* file) {
    std::fputs("cut short", file);
    errno = ENOSPC;
    return false;
  };
  CHECK(error_of([&] { logstats::write_whole_file(path, fail_writing); }) ==
        "cannot write " + path + ": No space left on device");
  CHECK(contents(path) == "earlier\n");
  CHECK(!fs::exists(path + ".partial"));

  const std::string fresh = s.file("fresh.txt");
  CHECK_THROWS_AS(logstats::write_whole_file(fresh, fail_writing), std::runtime_error);
  CHECK(!fs::exists(fresh));
  CHECK(!fs::exists(fresh + ".partial"));
}

TEST_CASE("write_whole_file() does not rename over a FIFO" * doctest::timeout(10)) {
  const scratch s;
  const std::string fifo = s.file("report.txt");
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  CHECK_THROWS_AS(write_text(fifo, "text\n"), std::runtime_error);
  CHECK(fs::is_fifo(fifo));
}

TEST_CASE("the check and the write never truncate what a partial name points to") {
  const scratch s;
  const std::string elsewhere = s.file("elsewhere.txt");
  { std::ofstream(elsewhere) << "keep me"; }
  { std::ofstream(s.file("left.txt.partial")) << "a leftover"; }
  fs::create_symlink(elsewhere, s.file("linked.txt.partial"));
  CHECK_NOTHROW(logstats::check_whole_file(s.file("left.txt")));
  CHECK(contents(s.file("left.txt.partial")) == "a leftover");  // the check leaves it be
  CHECK_NOTHROW(logstats::check_whole_file(s.file("linked.txt")));
  write_text(s.file("linked.txt"), "report");
  CHECK(contents(s.file("linked.txt")) == "report");
  CHECK(contents(elsewhere) == "keep me");  // the link was replaced, not followed
  CHECK_FALSE(fs::exists(s.file("linked.txt.partial")));
}

TEST_CASE("a write that throws leaves neither the file nor its partial one") {
  const scratch s;
  CHECK_THROWS_AS(logstats::write_whole_file(s.file("report.txt"),
                                             [](std::FILE*) -> bool { throw std::bad_alloc(); }),
                  std::bad_alloc);
  CHECK(s.is_empty());
}
