package dev.jxla;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * Frees every tensor created inside it (on this thread) when closed, except those passed to
 * {@link #keep(Tensor)}; kept tensors move to the enclosing scope, if any. Use with
 * try-with-resources. Scopes nest per thread and are not shared between threads.
 */
public final class TensorScope implements AutoCloseable {
  private static final ThreadLocal<ArrayDeque<TensorScope>> STACK = ThreadLocal.withInitial(ArrayDeque::new);

  private final List<Tensor> tensors = new ArrayList<>();
  private final Set<Tensor> kept = Collections.newSetFromMap(new IdentityHashMap<>());
  private final Thread owner = Thread.currentThread();
  private boolean closed;

  /** Opens a scope on the calling thread. */
  public TensorScope() {
    STACK.get().push(this);
  }

  static void register(Tensor t) {
    TensorScope s = STACK.get().peek();
    if (s != null) {
      s.tensors.add(t);
    }
  }

  /** Keeps {@code t} alive past this scope (it joins the enclosing scope) and returns it. */
  public <T extends Tensor> T keep(T t) {
    if (closed) {
      throw new IllegalStateException("TensorScope.keep: the scope is closed");
    }
    kept.add(t);
    return t;
  }

  /**
   * Removes {@code t} from every open scope of this thread: the caller owns it from now on and
   * must close it (used for long-lived state such as parameters, gradients and optimizer
   * moments created inside a step's scope). Returns t.
   */
  public static <T extends Tensor> T escape(T t) {
    for (TensorScope s : STACK.get()) {
      for (int i = s.tensors.size() - 1; i >= 0; i--) {
        if (s.tensors.get(i) == t) {
          s.tensors.remove(i);
          break;
        }
      }
      s.kept.remove(t);
    }
    return t;
  }

  /** Number of tensors this scope will free. */
  public int size() {
    return tensors.size() - kept.size();
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    if (Thread.currentThread() != owner) {
      throw new IllegalStateException("TensorScope.close: called from another thread than the one that opened it");
    }
    closed = true;
    ArrayDeque<TensorScope> st = STACK.get();
    st.remove(this);
    TensorScope parent = st.peek();
    for (Tensor t : tensors) {
      if (kept.contains(t)) {
        if (parent != null) {
          parent.tensors.add(t);
        }
      } else {
        t.close();
      }
    }
    tensors.clear();
    kept.clear();
  }

  /**
   * Runs {@code body} with no scope open on this thread, so the tensors it creates belong to the
   * caller alone (long-lived weights created while a scope is open elsewhere on the stack).
   */
  public static <T> T unscoped(java.util.function.Supplier<T> body) {
    ArrayDeque<TensorScope> saved = STACK.get();
    STACK.set(new ArrayDeque<>());
    try {
      return body.get();
    } finally {
      STACK.set(saved);
    }
  }
}
