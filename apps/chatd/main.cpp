// chatd: the chat server. Parses options, opens the store, loads the domain,
// serves until SIGINT/SIGTERM, then shuts down in dependency order: network
// first (no new work), then the writer (every accepted write committed and
// answered), then the store.
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <sys/resource.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <thread>

#include "core/chat_core.hpp"
#include "media/image.hpp"
#include "net/media_service.hpp"
#include "net/push_service.hpp"
#include "net/server.hpp"
#include "net/static_files.hpp"
#include "net/webhook_sms_gateway.hpp"
#include "options.hpp"
#include "provision.hpp"
#include "store/rocks/rocks_store.hpp"

namespace {

struct OpenFiles {
  std::size_t limit = 0;        // the soft limit after raising it (0: unlimited/unknown)
  std::size_t connections = 0;  // what chatd may spend on clients (0: no cap)
};

// Raises the soft open-files limit to the hard one (every socket is a file;
// the usual soft default of 1024 would cap chatd at ~1,000 clients) and works
// out the connections chatd may accept: the limit minus the store's table
// files and a margin for WAL, logs, listeners and the event loop's own files.
OpenFiles raise_open_files() {
  constexpr std::size_t kReserved = chat::store::kRocksMaxOpenFiles + 64;
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_max == RLIM_INFINITY) return {};
  if (rl.rlim_cur < rl.rlim_max) {
    rlimit raised{rl.rlim_max, rl.rlim_max};
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) rl = raised;
  }
  const std::size_t limit = rl.rlim_cur;
  return {limit, limit > 2 * kReserved ? limit - kReserved : limit / 2};
}

}  // namespace

int main(int argc, char** argv) {
  using namespace chat;
  int exit_code = 0;
  auto options = app::parse_options(argc, argv, exit_code);
  if (!options) return exit_code;

  try {
    if (options->provision_users > 0) return app::provision(*options);
    if (options->compact) {
      store::open_rocks_store(options->data_dir)->compact();
      std::printf("chatd: compacted %s\n", options->data_dir.c_str());
      return 0;
    }
    std::unique_ptr<core::SmsGateway> sms;
    if (options->sms == "webhook") {
      sms = std::make_unique<net::WebhookSmsGateway>(options->sms_webhook_url);
    } else {
      sms = std::make_unique<net::LogSmsGateway>();
    }
    SystemClock clock;
    core::ChatCore core(store::open_rocks_store(options->data_dir), options->durability,
                        options->core, *sms, clock);
    net::Metrics metrics;
    net::StaticFiles web(options->web_dir);
    media::init_image_library();
    auto media = std::make_unique<net::MediaService>(core, metrics, options->media);
    auto push = std::make_unique<net::PushService>(core, metrics, options->push);
    net::RestApi api(core, metrics, web, *media, *push);
    net::ServerContext ctx{core, api, metrics, *media, options->net};
    const OpenFiles files = raise_open_files();
    if (ctx.config.max_connections == 0) ctx.config.max_connections = files.connections;

    const std::size_t threads =
        options->threads ? options->threads : std::max(1u, std::thread::hardware_concurrency());
    net::Server server(ctx, threads);
    const auto endpoint = server.listen(options->listen_host, options->listen_port);

    boost::asio::io_context signals_io;
    boost::asio::signal_set signals(signals_io, SIGINT, SIGTERM);
    signals.async_wait([](boost::system::error_code, int) {});
    server.start();
    // Scripts and tests wait for this line (and read the port from it).
    std::printf("chatd: listening on %s:%u\n", endpoint.address().to_string().c_str(),
                endpoint.port());
    std::printf("chatd: %zu worker threads, durability %s%s, data in %s\n", threads,
                options->durability == store::Durability::sync    ? "sync"
                : options->durability == store::Durability::batch ? "batch"
                                                                  : "none",
                options->core.dev_mode ? ", dev mode (OTP codes in responses)" : "",
                options->data_dir.c_str());
    std::printf("chatd: accepting up to %zu connections (open-files limit %zu)\n",
                ctx.config.max_connections, files.limit);
    std::fflush(stdout);
    signals_io.run();  // returns after the first signal

    std::fprintf(stderr, "chatd: shutting down\n");
    server.stop();
    media.reset();  // finishes uploads in progress (their records commit) and the sweep
    push.reset();   // stops sending; rows in flight stay in the outbox for the next start
    core.stop();
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "chatd: fatal: %s\n", e.what());
    return 1;
  }
}
