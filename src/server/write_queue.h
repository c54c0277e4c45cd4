// Internal to the server (server.cc and its tests): the bytes connections
// have queued to send, per connection (WriteQueue) and server-wide
// (SendBudget).
#ifndef PERIMETER_SERVER_WRITE_QUEUE_H_INTERNAL_
#define PERIMETER_SERVER_WRITE_QUEUE_H_INTERNAL_

#include <atomic>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "perimeter/base/bytes.h"

namespace perimeter::server::internal {

// The server-wide count of response bytes queued to send plus the room
// reserved for responses being produced, against a limit. Whoever finds no
// room registers a wake-up, called after the next release.
//
// Thread-safe.
class SendBudget {
 public:
  explicit SendBudget(std::size_t limit) : limit_(limit) {}
  SendBudget(const SendBudget&) = delete;
  SendBudget& operator=(const SendBudget&) = delete;

  std::size_t used() const { return used_.load(); }
  std::size_t limit() const { return limit_; }

  // Counts `n` bytes whatever the limit (frames already produced).
  void Add(std::size_t n) { used_.fetch_add(n); }
  // Counts `n` bytes only if they fit under the limit.
  bool TryReserve(std::size_t n);
  // Uncounts `n` bytes and, if anyone waits, calls every registered wake-up
  // (on this thread, after unregistering them).
  void Release(std::size_t n);
  // Registers `wake` for the next release. If `n` bytes fit already (room
  // was made since the caller looked), wakes at once. `wake` (and what it
  // owns) is destroyed after it is called, or by Close(), outside the lock.
  void Wait(std::size_t n, std::function<void()> wake);
  // Drops the registered wake-ups and ignores later ones (server stop).
  void Close();

 private:
  void WakeAll();

  const std::size_t limit_;
  std::atomic<std::size_t> used_{0};
  std::atomic<bool> has_waiters_{false};
  std::mutex mu_;
  bool closed_ = false;                         // GUARDED_BY(mu_)
  std::vector<std::function<void()>> waiters_;  // GUARDED_BY(mu_)
};

// The frames one connection has yet to send, in order, counted in `bytes()`
// and in the budget (optional; must outlive the queue).
//
// Frames are shared: the frame being written is held by the write's
// completion handler as well (Front()), so dropping the queue while a write
// is in flight (an abort) never frees memory that the transport may still
// be reading. DropPending() also keeps that frame queued, so that its bytes
// stay counted until the write completes.
//
// Not thread-safe: one connection's strand.
class WriteQueue {
 public:
  explicit WriteQueue(SendBudget* budget = nullptr) : budget_(budget) {}
  ~WriteQueue();
  WriteQueue(const WriteQueue&) = delete;
  WriteQueue& operator=(const WriteQueue&) = delete;

  // Queues `frame`. `prepaid` bytes of it (REQUIRES: at most its size) were
  // reserved in the budget by the caller (SendBudget::TryReserve), who
  // gives that part of the reservation up: they are not counted again.
  void Push(Bytes frame, std::size_t prepaid = 0);
  bool empty() const { return frames_.empty(); }
  std::size_t size() const { return frames_.size(); }
  // The queued frames' bytes (the one being written included).
  std::size_t bytes() const { return bytes_; }
  // The next frame to write (REQUIRES: !empty()).
  std::shared_ptr<const Bytes> Front() const { return frames_.front(); }
  // The front frame has been written.
  void PopFront();
  // Drops every frame except, when `front_in_flight`, the front one.
  void DropPending(bool front_in_flight);

 private:
  void Uncount(std::size_t n);

  SendBudget* const budget_;
  std::deque<std::shared_ptr<const Bytes>> frames_;
  std::size_t bytes_ = 0;
};

}  // namespace perimeter::server::internal

#endif  // PERIMETER_SERVER_WRITE_QUEUE_H_INTERNAL_
