// FuseMount: fuse_session_new / mount / daemonize / loop / unmount with RAII.
#include "fuse/fuse_session.h"

#include <spdlog/spdlog.h>

#include <cstring>

namespace s3mount {
namespace {

struct SessionDeleter {
  void operator()(fuse_session* session) const { fuse_session_destroy(session); }
};
using SessionHandle = std::unique_ptr<fuse_session, SessionDeleter>;

struct LoopConfigDeleter {
  void operator()(fuse_loop_config* config) const { fuse_loop_cfg_destroy(config); }
};
using LoopConfig = std::unique_ptr<fuse_loop_config, LoopConfigDeleter>;

// fuse_args built from strings, freed with fuse_opt_free_args.
class FuseArgs {
 public:
  explicit FuseArgs(const std::vector<std::string>& argv) {
    for (const auto& arg : argv) storage_.push_back(arg);
    for (auto& arg : storage_) pointers_.push_back(arg.data());
    args_ = FUSE_ARGS_INIT(static_cast<int>(pointers_.size()), pointers_.data());
  }
  ~FuseArgs() { fuse_opt_free_args(&args_); }
  FuseArgs(const FuseArgs&) = delete;
  FuseArgs& operator=(const FuseArgs&) = delete;
  fuse_args* get() { return &args_; }

 private:
  std::vector<std::string> storage_;
  std::vector<char*> pointers_;
  fuse_args args_{};
};

}  // namespace

struct FuseMount::Impl {
  FuseMountOptions options;
  SessionHandle session;
  bool mounted = false;
  bool signal_handlers = false;
};

Result<std::unique_ptr<FuseMount>> FuseMount::Create(const FuseMountOptions& options,
                                                     FuseContext& context) {
  std::vector<std::string> argv = {"s3mount"};
  for (const auto& option : options.fuse_options) {
    argv.emplace_back("-o");
    argv.push_back(option);
  }
  if (options.debug) argv.emplace_back("-d");
  FuseArgs args(argv);
  const fuse_lowlevel_ops& ops = FuseOperations();
  context.mountpoint = options.mountpoint;  // for the readahead tuning at init
  context.max_background = options.single_threaded ? 0 : options.max_threads;
  SessionHandle session(fuse_session_new(args.get(), &ops, sizeof(ops), &context));
  if (!session) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "libfuse refused the mount options (see the message above)");
  }
  context.session = session.get();  // for notifications a handler sends before its reply
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->session = std::move(session);
  return std::unique_ptr<FuseMount>(new FuseMount(std::move(impl)));
}

FuseMount::FuseMount(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

FuseMount::~FuseMount() {
  if (impl_->signal_handlers) fuse_remove_signal_handlers(impl_->session.get());
  if (impl_->mounted) fuse_session_unmount(impl_->session.get());
}

Status FuseMount::Mount() {
  if (fuse_set_signal_handlers(impl_->session.get()) != 0) {
    return MakeError(ErrorCode::kInvalidArgument, "cannot install signal handlers");
  }
  impl_->signal_handlers = true;
  if (fuse_session_mount(impl_->session.get(), impl_->options.mountpoint.c_str()) != 0) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "cannot mount on '" + impl_->options.mountpoint + "' (see above)");
  }
  impl_->mounted = true;
  return OkStatus();
}

Status FuseMount::Daemonize(bool foreground) {
  if (fuse_daemonize(foreground ? 1 : 0) != 0) {
    return MakeError(ErrorCode::kInvalidArgument, "cannot go into the background");
  }
  return OkStatus();
}

Status FuseMount::Run() {
  int result = 0;
  if (impl_->options.single_threaded) {
    result = fuse_session_loop(impl_->session.get());
  } else {
    // The 3.12 configuration API: the older struct (FUSE_USE_VERSION < 312) carries only
    // max_idle_threads, and libfuse then caps the workers at its default of 10.
    LoopConfig config(fuse_loop_cfg_create());
    if (!config) return MakeError(ErrorCode::kUnknown, "cannot allocate the FUSE loop config");
    fuse_loop_cfg_set_clone_fd(config.get(), 0);
    fuse_loop_cfg_set_max_threads(config.get(), impl_->options.max_threads);
    // Workers past this many exit when idle; keeping them all avoids thread churn under load.
    fuse_loop_cfg_set_idle_threads(config.get(), impl_->options.max_threads);
    result = fuse_session_loop_mt(impl_->session.get(), config.get());
  }
  if (result < 0) {
    return MakeError(
        ErrorCode::kInvalidArgument,
        std::string("the FUSE session ended with an error: ") + std::strerror(-result));
  }
  return OkStatus();
}

void FuseMount::Invalidate(const KernelInvalidations& kernel) {
  fuse_session* session = impl_->session.get();
  for (const auto& [parent, name] : kernel.entries) {
    const int rc = fuse_lowlevel_notify_inval_entry(session, parent, name.data(), name.size());
    // -ENOENT: the kernel had nothing cached for it; nothing to do.
    if (rc != 0 && rc != -ENOENT) {
      spdlog::debug("invalidating the kernel's entry for {} in inode {}: {}", name, parent,
                    std::strerror(-rc));
    }
  }
  for (InodeId inode : kernel.inodes) {
    const int rc = fuse_lowlevel_notify_inval_inode(session, inode, 0, 0);
    if (rc != 0 && rc != -ENOENT) {
      spdlog::debug("invalidating the kernel's inode {}: {}", inode, std::strerror(-rc));
    }
  }
}

}  // namespace s3mount
