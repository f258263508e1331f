// Running one blocking call on a private io_context with a deadline.
//
// Every client object owns an io_context and runs it only inside its own calls,
// one thread at a time. A call starts an async operation and runs the context
// until the operation's handler has set a flag or the deadline passes; on the
// deadline the caller closes the socket, which completes the operation with
// `operation_aborted`, so no handler ever outlives the stack frame it points to.
// Private to src/client/ (it includes Asio).
#pragma once

#include <boost/asio/io_context.hpp>

#include <chrono>

namespace chat::client::detail {

using SteadyClock = std::chrono::steady_clock;

// Runs `ioc` until `done()` holds or `deadline` passes; returns done(). Returns
// early (false) when the context runs out of work, since then nothing can make
// `done()` true any more.
template <class Done>
bool run_until(boost::asio::io_context& ioc, Done&& done, SteadyClock::time_point deadline) {
  if (ioc.stopped()) ioc.restart();
  while (!done()) {
    if (SteadyClock::now() >= deadline) return false;
    if (ioc.run_one_until(deadline) == 0 && ioc.stopped()) {
      ioc.restart();
      return done();
    }
  }
  return true;
}

// Runs `ioc` until `done()`, after the caller has closed the socket: aborted
// operations complete promptly, so this cannot block for long.
template <class Done>
void drain(boost::asio::io_context& ioc, Done&& done) {
  if (ioc.stopped()) ioc.restart();
  while (!done() && ioc.run_one() != 0) {
  }
  if (ioc.stopped()) ioc.restart();
}

}  // namespace chat::client::detail
