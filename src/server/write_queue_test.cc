#include "server/write_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace perimeter::server::internal {
namespace {

// Finding: an abort cleared the queue while an asynchronous write of its
// front frame was still in flight, so the reactor could read freed memory
// (or send it to the peer). The frame being written must outlive the abort,
// and stay counted, until the write's completion handler lets it go.
TEST(WriteQueue, AbortKeepsTheFrameBeingWrittenAliveAndCounted) {
  SendBudget budget(1 << 20);
  WriteQueue q(&budget);
  q.Push(Bytes(1000, 0xa1));
  q.Push(Bytes(2000, 0xb2));
  q.Push(Bytes(3000, 0xc3));
  EXPECT_EQ(q.bytes(), 6000u);
  EXPECT_EQ(budget.used(), 6000u);

  // The transport's write holds the front frame (as its handler does).
  std::shared_ptr<const Bytes> in_flight = q.Front();
  const std::uint8_t* data = in_flight->data();
  std::weak_ptr<const Bytes> watch = in_flight;

  q.DropPending(/*front_in_flight=*/true);
  EXPECT_EQ(q.size(), 1u);
  EXPECT_EQ(q.bytes(), 1000u);
  EXPECT_EQ(budget.used(), 1000u);
  EXPECT_EQ(q.Front().get(), in_flight.get());
  EXPECT_EQ(in_flight->data(), data);
  EXPECT_EQ(*in_flight, Bytes(1000, 0xa1));

  // Even if the queue goes away before the write completes (the session
  // is destroyed), the handler's reference keeps the bytes valid.
  {
    WriteQueue other(&budget);
    other.Push(Bytes(10, 7));
    std::shared_ptr<const Bytes> held = other.Front();
    other.DropPending(/*front_in_flight=*/false);
    EXPECT_TRUE(other.empty());
    EXPECT_EQ(*held, Bytes(10, 7));
  }
  EXPECT_EQ(budget.used(), 1000u);

  // The write completes: the frame goes.
  q.PopFront();
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(budget.used(), 0u);
  EXPECT_FALSE(watch.expired());  // still held by "the handler"
  in_flight.reset();
  EXPECT_TRUE(watch.expired());
}

TEST(WriteQueue, DropPendingWithoutAWriteDropsEverything) {
  SendBudget budget(1 << 20);
  {
    WriteQueue q(&budget);
    q.Push(Bytes(5, 1));
    q.Push(Bytes(6, 2));
    q.DropPending(/*front_in_flight=*/false);
    EXPECT_TRUE(q.empty());
    EXPECT_EQ(q.bytes(), 0u);
    EXPECT_EQ(budget.used(), 0u);
    q.Push(Bytes(7, 3));
    EXPECT_EQ(budget.used(), 7u);
  }
  EXPECT_EQ(budget.used(), 0u);  // the destructor releases what is left
}

TEST(WriteQueue, PrepaidBytesAreNotCountedTwice) {
  SendBudget budget(1000);
  ASSERT_TRUE(budget.TryReserve(600));  // room for a response being produced
  WriteQueue q(&budget);
  q.Push(Bytes(400, 1), /*prepaid=*/400);
  EXPECT_EQ(budget.used(), 600u);
  q.Push(Bytes(300, 1), /*prepaid=*/200);  // the reservation's rest, and 100 more
  EXPECT_EQ(budget.used(), 700u);
  EXPECT_EQ(q.bytes(), 700u);
  q.Push(Bytes(10, 1));
  EXPECT_EQ(budget.used(), 710u);
  q.DropPending(false);
  EXPECT_EQ(budget.used(), 0u);
}

TEST(SendBudget, ReservesOnlyWithinTheLimit) {
  SendBudget budget(100);
  EXPECT_TRUE(budget.TryReserve(60));
  EXPECT_FALSE(budget.TryReserve(41));
  EXPECT_TRUE(budget.TryReserve(40));
  EXPECT_FALSE(budget.TryReserve(1));
  EXPECT_FALSE(SendBudget(10).TryReserve(11));
  budget.Add(50);  // produced frames are counted whatever the limit
  EXPECT_EQ(budget.used(), 150u);
  budget.Release(150);
  EXPECT_EQ(budget.used(), 0u);
}

TEST(SendBudget, WaitersAreWokenByTheNextRelease) {
  SendBudget budget(100);
  ASSERT_TRUE(budget.TryReserve(100));
  int woken = 0;
  budget.Wait(10, [&] { ++woken; });
  budget.Wait(10, [&] { ++woken; });
  EXPECT_EQ(woken, 0);
  budget.Release(50);
  EXPECT_EQ(woken, 2);
  budget.Release(10);
  EXPECT_EQ(woken, 2);  // once each
  // Room made before the registration: woken at once.
  budget.Wait(10, [&] { ++woken; });
  EXPECT_EQ(woken, 3);
  // After Close, nobody is registered or woken.
  ASSERT_TRUE(budget.TryReserve(60));
  budget.Wait(60, [&] { ++woken; });
  budget.Close();
  budget.Release(60);
  budget.Wait(1, [&] { ++woken; });
  EXPECT_EQ(woken, 3);
}

TEST(SendBudget, ConcurrentReservationsNeverExceedTheLimit) {
  SendBudget budget(1000);
  std::atomic<bool> over{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20000; ++i) {
        if (budget.TryReserve(300)) {
          if (budget.used() > 1000) over = true;
          budget.Release(300);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_FALSE(over.load());
  EXPECT_EQ(budget.used(), 0u);
}

}  // namespace
}  // namespace perimeter::server::internal
