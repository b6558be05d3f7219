#include "jxla/jxla.h"
#include "tests/check.h"

int main() {
  CHECK(jxla_version() > 0);
  return check_finish();
}
