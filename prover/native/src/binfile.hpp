// iden3's binary container, as snarkjs reads and writes it (.zkey, .wtns):
//   magic (4 bytes) | version u32 | section count u32 |
//   then per section: type u32 | size u64 | size bytes of data.
// All integers little-endian. A file is mapped read-only (the zkey) or held in
// one buffer (a witness from a pipe); sections are views into it.
#pragma once
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace poa {

// An input that cannot be proved: the message names the file and the problem.
struct InputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Section {
  const uint8_t* data;
  size_t size;
};

class BinFile {
 public:
  BinFile(const BinFile&) = delete;
  BinFile& operator=(const BinFile&) = delete;
  ~BinFile() {
    if (mapped_) munmap((void*)data_, size_);
  }

  // Maps path; what names the file in errors ("zkey", "witness").
  static BinFile* map(const std::string& path, const char* magic, const std::string& what) {
    int fd = open(path.c_str(), O_RDONLY);
    if (fd < 0) throw InputError(what + " " + path + " cannot be opened: " + strerror(errno));
    struct stat st;
    fstat(fd, &st);
    size_t size = (size_t)st.st_size;
    void* p = size ? mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0) : nullptr;
    close(fd);
    if (size && p == MAP_FAILED) throw InputError(what + " " + path + " cannot be mapped: " + strerror(errno));
    auto* f = new BinFile((const uint8_t*)p, size, true, what);
    f->parse(magic);
    return f;
  }

  static BinFile* own(std::vector<uint8_t>&& bytes, const char* magic, const std::string& what) {
    auto* f = new BinFile(nullptr, 0, false, what);
    f->buffer_ = std::move(bytes);
    f->data_ = f->buffer_.data();
    f->size_ = f->buffer_.size();
    f->parse(magic);
    return f;
  }

  // The one section of this type, of exactly `expected` bytes when given.
  Section section(uint32_t type, const char* name, size_t expected = SIZE_MAX) const {
    auto it = sections_.find(type);
    if (it == sections_.end()) throw InputError(what_ + " has no section " + std::to_string(type) + " (" + name + ")");
    if (it->second.size() != 1) throw InputError(what_ + " has " + std::to_string(it->second.size()) + " sections " + std::to_string(type) + " (" + name + "), expected one");
    Section s = it->second[0];
    if (expected != SIZE_MAX && s.size != expected) {
      throw InputError(what_ + " section " + std::to_string(type) + " (" + name + ") holds " + std::to_string(s.size) + " bytes, the header implies " + std::to_string(expected));
    }
    return s;
  }

  bool has(uint32_t type) const { return sections_.count(type) > 0; }

  void advise_sequential() const {
    if (mapped_ && size_) madvise((void*)data_, size_, MADV_SEQUENTIAL);
  }

 private:
  BinFile(const uint8_t* d, size_t n, bool mapped, std::string what) : data_(d), size_(n), mapped_(mapped), what_(std::move(what)) {}

  void parse(const char* magic) {
    if (size_ < 12 || memcmp(data_, magic, 4) != 0) throw InputError(what_ + " is not a ." + std::string(magic) + " file (its first bytes are not \"" + magic + "\")");
    uint32_t n_sections;
    memcpy(&n_sections, data_ + 8, 4);
    size_t pos = 12;
    for (uint32_t i = 0; i < n_sections; i++) {
      if (pos + 12 > size_) throw InputError(what_ + " is truncated: section header " + std::to_string(i) + " of " + std::to_string(n_sections) + " is past the end (" + std::to_string(size_) + " bytes)");
      uint32_t type;
      uint64_t len;
      memcpy(&type, data_ + pos, 4);
      memcpy(&len, data_ + pos + 4, 8);
      pos += 12;
      if (len > size_ - pos) throw InputError(what_ + " is truncated: section " + std::to_string(type) + " needs " + std::to_string(len) + " bytes at offset " + std::to_string(pos) + ", the file has " + std::to_string(size_));
      sections_[type].push_back(Section{data_ + pos, (size_t)len});
      pos += len;
    }
  }

  const uint8_t* data_;
  size_t size_;
  bool mapped_;
  std::string what_;
  std::vector<uint8_t> buffer_;
  std::map<uint32_t, std::vector<Section>> sections_;
};

inline uint32_t read_u32(const uint8_t* p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}

}  // namespace poa
