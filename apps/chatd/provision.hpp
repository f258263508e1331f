// `chatd --provision-users N`: fills a (stopped) data dir with N users, one
// device and token each, direct chats between users 2i and 2i+1 and,
// optionally, groups of G consecutive users -- the fixtures of chat-bench.
//
// It goes through the domain (ChatCore), so everything it creates is exactly
// what the API would have created; only the OTP step is skipped. The tokens are
// written to --provision-out (one JSON object per line), which is therefore a
// secret: it exists for load tests on test data dirs.
#pragma once

#include "options.hpp"

namespace chat::app {

int provision(const Options& options);

}  // namespace chat::app
