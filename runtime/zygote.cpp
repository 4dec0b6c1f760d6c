#include "runtime/zygote.hpp"

#include <poll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "ipc/error.hpp"
#include "ipc/pdeathsig.hpp"
#include "tandem/errors.hpp"

namespace tandem::detail {

namespace {

// message is every datagram on the zygote's socket, both ways.
struct message {
  enum kind : std::uint32_t { spawn = 1, stop, spawned, exited, spawn_failed } what;
  std::uint32_t slot = 0;
  std::int32_t pid = 0;
  std::int32_t signaled = 0;
  std::int32_t number = 0;
};

constexpr int liveness_check_ms = 250;

bool send_message(int socket, const message& m, int passed_fd = -1) noexcept {
  iovec data{const_cast<message*>(&m), sizeof m};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr header{};
  header.msg_iov = &data;
  header.msg_iovlen = 1;
  if (passed_fd >= 0) {
    header.msg_control = control;
    header.msg_controllen = sizeof control;
    cmsghdr* rights = CMSG_FIRSTHDR(&header);
    rights->cmsg_level = SOL_SOCKET;
    rights->cmsg_type = SCM_RIGHTS;
    rights->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(rights), &passed_fd, sizeof(int));
  }
  ssize_t sent;
  do sent = sendmsg(socket, &header, MSG_NOSIGNAL);
  while (sent < 0 && errno == EINTR);
  return sent == static_cast<ssize_t>(sizeof m);
}

// The zygote's side. Everything below runs in the forked fork server.
class server {
 public:
  server(int socket, pid_t host, zygote::worker_main main, zygote::notify_fn notify, void* context)
      : socket_(socket), host_(host), main_(main), notify_(notify), context_(context) {}

  [[noreturn]] void run() {
    prepare_process();
    for (;;) {
      pollfd watch[2] = {{socket_, POLLIN, 0}, {children_fd_, POLLIN, 0}};
      const int ready = poll(watch, 2, liveness_check_ms);
      if (getppid() != host_) finish();
      if (ready <= 0) continue;
      if (watch[1].revents != 0) reap_children();
      if (watch[0].revents != 0) serve_command();
    }
  }

 private:
  void prepare_process() {
    ipc::die_with_parent(host_, SIGKILL);
    // Inherited handlers belong to the host's code. The signals a terminal
    // sends its foreground process group (Ctrl-C, Ctrl-\, hang-up) and a
    // service manager sends every process of a service (SIGTERM) mean
    // "stop" to the host, which may want its workers to finish the tasks
    // in flight first: they are the host's to act on. The zygote and the
    // workers die with the host anyway (die_with_parent).
    // They are caught by a handler that does nothing rather than ignored,
    // because an ignored signal stays ignored across exec: a program a
    // task starts gets them at their defaults.
    for (int signal = 1; signal < NSIG; ++signal)
      if (signal != SIGKILL && signal != SIGSTOP) std::signal(signal, SIG_DFL);
    struct sigaction shrug {};
    shrug.sa_handler = [](int) {};
    shrug.sa_flags = SA_RESTART;
    for (const int signal : {SIGINT, SIGQUIT, SIGHUP, SIGTERM}) sigaction(signal, &shrug, nullptr);
    keep_only_socket();
    sigset_t children;
    sigemptyset(&children);
    sigaddset(&children, SIGCHLD);
    sigprocmask(SIG_BLOCK, &children, nullptr);
    children_fd_ = signalfd(-1, &children, SFD_CLOEXEC | SFD_NONBLOCK);
    if (children_fd_ < 0) _exit(70);
  }

  // keep_only_socket() closes every inherited descriptor but 0-2 and ours.
  void keep_only_socket() noexcept {
    if (socket_ > 3) syscall(SYS_close_range, 3u, static_cast<unsigned>(socket_ - 1), 0u);
    syscall(SYS_close_range, static_cast<unsigned>(socket_ + 1), ~0u, 0u);
  }

  void serve_command() {
    message m{};
    const ssize_t got = recv(socket_, &m, sizeof m, MSG_DONTWAIT);
    if (got < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (got != static_cast<ssize_t>(sizeof m) || m.what != message::spawn) finish();
    spawn(m.slot);
  }

  void spawn(std::uint32_t slot) {
    const pid_t child = fork();
    if (child == 0) become_worker(slot);
    if (child < 0) {
      report({message::spawn_failed, slot, 0, 0, errno});
      return;
    }
    children_.push_back(child);
    const int handle = static_cast<int>(syscall(SYS_pidfd_open, child, 0));
    report({message::spawned, slot, child, 0, 0}, handle);
    if (handle >= 0) close(handle);
  }

  [[noreturn]] void become_worker(std::uint32_t slot) {
    close(children_fd_);
    close(socket_);
    // Nothing blocked, as in a fresh process: what the host's threads block
    // is the host's business (a server that leaves SIGTERM to one thread
    // blocks it in all the others, the one that made the runtime included).
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    ipc::die_with_parent(zygote_pid_, SIGKILL);
    main_(context_, slot);
    _exit(0);
  }

  void reap_children() {
    signalfd_siginfo info;
    while (read(children_fd_, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
    }
    int status = 0;
    pid_t child;
    while ((child = waitpid(-1, &status, WNOHANG)) > 0) {
      std::erase(children_, child);
      const bool signaled = WIFSIGNALED(status);
      report(
          {message::exited, 0, child, signaled, signaled ? WTERMSIG(status) : WEXITSTATUS(status)});
    }
  }

  void report(const message& m, int passed_fd = -1) {
    if (!send_message(socket_, m, passed_fd)) finish();
    notify_(context_);
  }

  // finish() ends the zygote and its workers: the host is gone or asked.
  [[noreturn]] void finish() {
    for (const pid_t child : children_) kill(child, SIGKILL);
    for (const pid_t child : children_) waitpid(child, nullptr, 0);
    _exit(0);
  }

  int socket_;
  pid_t host_;
  pid_t zygote_pid_ = getpid();
  zygote::worker_main main_;
  zygote::notify_fn notify_;
  void* context_;
  int children_fd_ = -1;
  std::vector<pid_t> children_;
};

}  // namespace

zygote::zygote(worker_main main, notify_fn notify, void* context) {
  int ends[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ends) != 0)
    throw error(std::string("tandem: cannot create the zygote's socket: ") + std::strerror(errno));
  const pid_t host = getpid();
  // Every worker starts with a copy of the host's stdio buffers: flushed
  // now, or a task that calls exit() would write the host's pending output
  // a second time.
  std::fflush(nullptr);
  const pid_t child = fork();
  if (child == 0) {
    close(ends[0]);
    server(ends[1], host, main, notify, context).run();
  }
  const int fork_error = errno;
  close(ends[1]);
  if (child < 0) {
    close(ends[0]);
    throw error(std::string("tandem: cannot fork the cpu lane's zygote process: ") +
                std::strerror(fork_error));
  }
  socket_ = ends[0];
  process_ = ipc::pidfd(child);
}

zygote::~zygote() { stop(); }

bool zygote::spawn(unsigned slot) noexcept {
  return send_message(socket_, {message::spawn, static_cast<std::uint32_t>(slot), 0, 0, 0});
}

std::optional<zygote_report> zygote::try_receive() {
  message m{};
  iovec data{&m, sizeof m};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr header{};
  header.msg_iov = &data;
  header.msg_iovlen = 1;
  header.msg_control = control;
  header.msg_controllen = sizeof control;
  const ssize_t got = recvmsg(socket_, &header, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  if (got != static_cast<ssize_t>(sizeof m)) return std::nullopt;
  zygote_report report{};
  report.slot = m.slot;
  report.pid = m.pid;
  switch (m.what) {
    case message::spawned: {
      report.what = zygote_report::event::spawned;
      const cmsghdr* rights = CMSG_FIRSTHDR(&header);
      if (rights != nullptr && rights->cmsg_type == SCM_RIGHTS) {
        int handle;
        std::memcpy(&handle, CMSG_DATA(rights), sizeof handle);
        report.worker = ipc::pidfd::adopt(handle, m.pid);
      }
      break;
    }
    case message::exited:
      report.what = zygote_report::event::exited;
      report.status = {m.signaled != 0, m.number};
      break;
    default:
      report.what = zygote_report::event::spawn_failed;
      report.error = m.number;
  }
  return report;
}

std::optional<zygote_report> zygote::receive(std::chrono::milliseconds timeout) {
  pollfd watch{socket_, POLLIN, 0};
  if (poll(&watch, 1, static_cast<int>(timeout.count())) <= 0) return std::nullopt;
  return try_receive();
}

bool zygote::alive() const { return !stopped_ && !process_.exited(std::chrono::milliseconds(0)); }

void zygote::stop() noexcept {
  if (std::exchange(stopped_, true)) return;
  send_message(socket_, {message::stop, 0, 0, 0, 0});
  try {
    if (!process_.exited(std::chrono::seconds(2))) process_.send_signal(SIGKILL);
    while (!process_.try_reap()) process_.exited(std::chrono::milliseconds(100));
  } catch (const ipc::ipc_error&) {
    // Already reaped by someone else: nothing is left to wait for.
  }
  close(socket_);
}

}  // namespace tandem::detail
