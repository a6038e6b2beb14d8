//! The commit keel is built from, for the pipelines `keel ci init` writes (they build the
//! same keel on the runners).

fn main() {
    keel_buildinfo::emit();
}
