// The blob store: media file contents on disk, content-addressed by sha256.
//
//   <root>/tmp/<random>            an upload being received (deleted on failure)
//   <root>/blobs/ab/abcdef...      one file per distinct sha256 (lowercase hex)
//   <root>/thumbs/ab/abcdef...     its thumbnail, when it is an image
//
// An upload streams into a temp file while its sha256 is computed, is fsynced,
// then renamed to its blob path (the same bytes uploaded twice are stored once:
// the second temp file is dropped). Metadata lives in the Store, not here.
//
// Garbage collection vs. a concurrent upload of the same bytes: between
// `commit` and the durable metadata that references the blob, the upload holds
// a *pin* on the sha256. `remove_if_unreferenced` takes the same mutex, skips
// pinned blobs and asks the caller whether the store still references the
// sha256; so a blob is never unlinked under an upload that is about to use it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "base/result.hpp"

namespace chat::media {

// One upload being written. Not thread-safe; owned by one connection.
class UploadSink {
 public:
  ~UploadSink();  // removes the temp file unless committed
  UploadSink(const UploadSink&) = delete;
  UploadSink& operator=(const UploadSink&) = delete;

  // Appends bytes (write(2) to the page cache, sha256 updated).
  Status write(const void* data, std::size_t n);
  std::uint64_t size() const { return size_; }
  const std::filesystem::path& temp_path() const { return temp_path_; }
  // fsyncs the file and returns the sha256 (lowercase hex). Call once.
  Result<std::string> finish();

 private:
  friend class BlobStore;
  UploadSink(int fd, std::filesystem::path temp_path);
  struct Hasher;
  int fd_ = -1;
  std::filesystem::path temp_path_;
  std::unique_ptr<Hasher> hasher_;
  std::uint64_t size_ = 0;
  bool committed_ = false;
};

class BlobStore {
 public:
  // Creates the directories under `root` if needed and removes stale temp files.
  explicit BlobStore(std::filesystem::path root);

  Result<std::unique_ptr<UploadSink>> begin_upload();

  // Moves a finished upload to its blob path (or drops it if the blob exists)
  // and pins `sha256` until `unpin`. Returns the blob's path.
  Result<std::filesystem::path> commit(UploadSink& sink, const std::string& sha256);
  void unpin(const std::string& sha256);

  std::filesystem::path blob_path(const std::string& sha256) const;
  std::filesystem::path thumb_path(const std::string& sha256) const;
  bool exists(const std::string& sha256) const;

  // Unlinks the blob and its thumbnail unless the sha256 is pinned or
  // `still_referenced(sha256)` says the store still needs it (called under the
  // store's mutex). Returns whether it removed the blob.
  bool remove_if_unreferenced(const std::string& sha256,
                              const std::function<bool(const std::string&)>& still_referenced);

  // Number of blob files on disk (tests, metrics).
  std::size_t count_blobs() const;

 private:
  std::filesystem::path root_;
  std::mutex mutex_;
  std::unordered_map<std::string, int> pins_;
};

}  // namespace chat::media
