// Copies a directory's contents between two directory descriptors, never
// following a symlink on either side: what a volume's first mount copies
// in from the image (podman's copy-up). Owners, modes (setuid included),
// and times are kept; symlinks are copied as links, FIFOs made anew;
// device nodes and sockets are skipped (the image import drops them too),
// as are extended attributes. Hard links become separate copies.
#pragma once

namespace minirt {

// Throws Error naming the entry that could not be copied.
void copy_tree(int src_dir, int dst_dir);

}  // namespace minirt
