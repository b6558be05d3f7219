package dev.jxla.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class JxlaLibTest {
  @Test
  void versionIsOne() {
    assertEquals(1, JxlaLib.jxla_version());
  }
}
