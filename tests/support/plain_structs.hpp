// plain_structs.hpp — trivially copyable types that tandem must carry byte
// for byte although they cannot be default-constructed.
#pragma once

namespace tandem::test {

// Trivially copyable, but with no default constructor, or a const member.
struct vec3 {
  float x, y, z;
  vec3(float x_, float y_, float z_) : x(x_), y(y_), z(z_) {}
  bool operator==(const vec3&) const = default;
};
struct tagged {
  const int tag;
  double value;
  bool operator==(const tagged&) const = default;
};

}  // namespace tandem::test
