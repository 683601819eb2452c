package io.keywarden.operator.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.Executor;
import org.junit.jupiter.api.Test;

/**
 * A change tells every waiter once, on its own loop, without crowding out the loop's other work.
 */
class ChangeWaitersTest {

  /** An event loop run by hand: tasks in the order they were queued. */
  private static final class Loop implements Executor {
    final Queue<Runnable> tasks = new ArrayDeque<>();
    final List<String> ran = new ArrayList<>();

    @Override
    public void execute(Runnable task) {
      tasks.add(task);
    }

    void runAll() {
      Runnable task;
      while ((task = tasks.poll()) != null) {
        task.run();
      }
    }
  }

  private static ChangeWaiters.Waiter waiter(Loop loop, String name) {
    return new ChangeWaiters.Waiter() {
      @Override
      public void changed() {
        loop.ran.add(name);
      }

      @Override
      public Executor loop() {
        return loop;
      }
    };
  }

  @Test
  void tenThousandWaitersAreToldOnceEachOnTheirOwnLoop() {
    ChangeWaiters waiters = new ChangeWaiters(20_000);
    Loop first = new Loop();
    Loop second = new Loop();
    for (int i = 0; i < 10_000; i++) {
      Loop loop = i % 2 == 0 ? first : second;
      assertThat(waiters.add("ns", "db", waiter(loop, (loop == first ? "a" : "b") + i))).isTrue();
    }
    waiters.add("ns", "other", waiter(first, "other"));

    waiters.notifyChanged("ns", "db");
    first.runAll();
    second.runAll();

    assertThat(first.ran).hasSize(5_000).doesNotHaveDuplicates().allMatch(n -> n.startsWith("a"));
    assertThat(second.ran).hasSize(5_000).doesNotHaveDuplicates().allMatch(n -> n.startsWith("b"));
    assertThat(waiters.size()).isEqualTo(1);
    assertThat(waiters.byNamespace()).isEqualTo(Map.of("ns", 1));
  }

  @Test
  void workQueuedDuringAWakeUpRunsAfterOneBatchNotAfterAllWaiters() {
    ChangeWaiters waiters = new ChangeWaiters(20_000);
    Loop loop = new Loop();
    for (int i = 0; i < 5_000; i++) {
      waiters.add("ns", "db", waiter(loop, "w" + i));
    }

    waiters.notifyChanged("ns", "db");
    loop.tasks.poll().run(); // the first batch
    loop.execute(() -> loop.ran.add("the put's own answer"));
    loop.runAll();

    assertThat(loop.ran.indexOf("the put's own answer")).isEqualTo(2 * ChangeWaiters.BATCH);
    assertThat(loop.ran).hasSize(5_001);
  }

  @Test
  void aWaiterThatThrowsDoesNotKeepTheOthersWaiting() {
    ChangeWaiters waiters = new ChangeWaiters(100);
    Loop loop = new Loop();
    waiters.add(
        "ns",
        "db",
        new ChangeWaiters.Waiter() {
          @Override
          public void changed() {
            throw new IllegalStateException("connection gone");
          }

          @Override
          public Executor loop() {
            return loop;
          }
        });
    for (int i = 0; i < 99; i++) {
      waiters.add("ns", "db", waiter(loop, "w" + i));
    }

    waiters.notifyChanged("ns", "db");
    loop.runAll();

    assertThat(loop.ran).hasSize(99);
  }

  @Test
  void aWaiterThatLeavesIsNotCountedNorTold() {
    ChangeWaiters waiters = new ChangeWaiters(100);
    Loop loop = new Loop();
    ChangeWaiters.Waiter leaving = waiter(loop, "leaving");
    waiters.add("ns", "db", leaving);
    waiters.add("ns", "db", waiter(loop, "staying"));

    waiters.remove("ns", "db", leaving);
    assertThat(waiters.size()).isEqualTo(1);
    waiters.remove("ns", "db", leaving);
    assertThat(waiters.size()).as("removed once").isEqualTo(1);
    waiters.notifyChanged("ns", "db");
    loop.runAll();

    assertThat(loop.ran).containsExactly("staying");
    assertThat(waiters.size()).isZero();
    waiters.remove("ns", "db", waiter(loop, "never added"));
    assertThat(waiters.size()).as("never below zero").isZero();
    assertThat(waiters.byNamespace()).isEmpty();
  }

  @Test
  void aWaiterAddedAfterAWakeUpWaitsForTheNextOne() {
    ChangeWaiters waiters = new ChangeWaiters(100);
    Loop loop = new Loop();
    waiters.add("ns", "db", waiter(loop, "first"));
    waiters.notifyChanged("ns", "db");
    waiters.add("ns", "db", waiter(loop, "second"));
    loop.runAll();
    assertThat(loop.ran).containsExactly("first");

    waiters.notifyChanged("ns", "db");
    loop.runAll();

    assertThat(loop.ran).containsExactly("first", "second");
  }

  @Test
  void aLoopShutDownDoesNotKeepTheOtherLoopsWaitersWaiting() {
    ChangeWaiters waiters = new ChangeWaiters(100);
    Loop open = new Loop();
    Executor closed =
        task -> {
          throw new java.util.concurrent.RejectedExecutionException("event loop shut down");
        };
    waiters.add("ns", "db", waiter(open, "told"));
    waiters.add(
        "ns",
        "db",
        new ChangeWaiters.Waiter() {
          @Override
          public void changed() {}

          @Override
          public Executor loop() {
            return closed;
          }
        });

    waiters.notifyChanged("ns", "db");
    open.runAll();

    assertThat(open.ran).containsExactly("told");
  }

  @Test
  void countsStayExactWhileThreadsAddRemoveAndWake() throws Exception {
    ChangeWaiters waiters = new ChangeWaiters(1_000_000);
    Executor inline = Runnable::run;
    java.util.concurrent.atomic.AtomicInteger told =
        new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.atomic.AtomicInteger twice =
        new java.util.concurrent.atomic.AtomicInteger();
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      threads.add(
          new Thread(
              () -> {
                for (int i = 0; i < 20_000; i++) {
                  ChangeWaiters.Waiter w =
                      new ChangeWaiters.Waiter() {
                        final java.util.concurrent.atomic.AtomicBoolean once =
                            new java.util.concurrent.atomic.AtomicBoolean();

                        @Override
                        public void changed() {
                          if (once.compareAndSet(false, true)) {
                            told.incrementAndGet();
                          } else {
                            twice.incrementAndGet();
                          }
                        }

                        @Override
                        public Executor loop() {
                          return inline;
                        }
                      };
                  waiters.add("ns", "db", w);
                  if (i % 3 == 0) {
                    waiters.remove("ns", "db", w);
                  }
                  if (i % 7 == 0) {
                    waiters.notifyChanged("ns", "db");
                  }
                }
              }));
    }
    threads.forEach(Thread::start);
    for (Thread thread : threads) {
      thread.join();
    }
    waiters.notifyChanged("ns", "db");

    assertThat(waiters.size()).as("count after every set was woken").isZero();
    assertThat(twice).as("waiters told twice").hasValue(0);
    assertThat(told.get()).isGreaterThan(40_000).isLessThanOrEqualTo(80_000);
  }
}
