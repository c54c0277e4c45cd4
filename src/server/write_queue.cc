#include "server/write_queue.h"

#include <utility>

namespace perimeter::server::internal {

bool SendBudget::TryReserve(std::size_t n) {
  std::size_t used = used_.load();
  while (true) {
    if (n > limit_ || used > limit_ - n) return false;
    if (used_.compare_exchange_weak(used, used + n)) return true;
  }
}

void SendBudget::Release(std::size_t n) {
  used_.fetch_sub(n);
  if (has_waiters_.load()) WakeAll();
}

void SendBudget::Wait(std::size_t n, std::function<void()> wake) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return;
    waiters_.push_back(std::move(wake));
    has_waiters_.store(true);
  }
  // A release between the caller's look and the registration above found no
  // waiter: look again.
  if (n <= limit_ && used_.load() <= limit_ - n) WakeAll();
}

void SendBudget::Close() {
  std::vector<std::function<void()>> dropped;
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    dropped.swap(waiters_);
    has_waiters_.store(false);
  }
  // Destroyed outside the lock: a wake-up may own what releases bytes.
}

void SendBudget::WakeAll() {
  std::vector<std::function<void()>> wake;
  {
    std::lock_guard<std::mutex> lock(mu_);
    wake.swap(waiters_);
    has_waiters_.store(false);
  }
  for (auto& w : wake) w();
}

WriteQueue::~WriteQueue() { Uncount(bytes_); }

void WriteQueue::Push(Bytes frame, std::size_t prepaid) {
  const std::size_t n = frame.size();
  if (prepaid > n) prepaid = n;
  frames_.push_back(std::make_shared<const Bytes>(std::move(frame)));
  bytes_ += n;
  if (budget_ != nullptr && n > prepaid) budget_->Add(n - prepaid);
}

void WriteQueue::PopFront() {
  const std::size_t n = frames_.front()->size();
  frames_.pop_front();
  Uncount(n);
}

void WriteQueue::DropPending(bool front_in_flight) {
  std::size_t dropped = 0;
  while (frames_.size() > (front_in_flight ? 1u : 0u)) {
    dropped += frames_.back()->size();
    frames_.pop_back();
  }
  Uncount(dropped);
}

void WriteQueue::Uncount(std::size_t n) {
  if (n == 0) return;
  bytes_ -= n;
  if (budget_ != nullptr) budget_->Release(n);
}

}  // namespace perimeter::server::internal
