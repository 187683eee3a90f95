//! Load-balancing algorithms. (Being written.)
