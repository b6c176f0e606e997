/* swiotlb-replay-reference <trace> [output]: the C reference replayer as its own process, so
 * that it is timed as `xenpv swiotlb replay` is (process start, file reading and writing). */
#include "swiotlb_reference.h"
#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s <trace> [output]\n", argv[0]);
        return 2;
    }
    return swiotlb_ref_replay(argv[1], argc == 3 ? argv[2] : "/dev/stdout") < 0;
}
