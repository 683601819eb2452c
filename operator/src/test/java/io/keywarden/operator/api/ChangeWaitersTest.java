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
}
