/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tlb_probe: the machine's address translation, as a packet pipeline meets
 * it. A pointer chase through LINES cache lines, one every STRIDE bytes, in
 * memory on 2 MiB hugepages (MAP_HUGETLB), visited in a random order: with a
 * stride of 64 the lines are one block; with a stride of a page and a line
 * (4160) each line is in a 4 KiB page of its own, the lines still fitting the
 * caches. On 2 MiB pages both need a handful of TLB entries; where the
 * hypervisor backs the guest with 4 KiB pages, the second takes a TLB entry
 * per line, and past the TLB's reach each load waits for a page walk.
 *
 *   tlb_probe LINES STRIDE
 *
 * Prints one JSON object: {lines, stride, region_bytes, cycles_per_load}
 * (TSC cycles). Exits 2 when the hugepages cannot be had.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include <x86intrin.h>

#define HUGE	    (2ul << 20)
#define LOADS	    20000000ul
#define WARM_ROUNDS 4

int
main(int argc, char **argv)
{
	size_t n, stride, size, *perm;
	uint64_t t0, t1;
	unsigned seed = 1;
	char *b;
	void **p;

	if (argc != 3) {
		fprintf(stderr, "usage: tlb_probe LINES STRIDE\n");
		return 1;
	}
	n = strtoul(argv[1], NULL, 0);
	stride = strtoul(argv[2], NULL, 0);
	if (n < 2 || stride < sizeof(void *) || stride % sizeof(void *)) {
		fprintf(stderr, "tlb_probe: LINES >= 2, STRIDE a multiple of %zu\n",
			sizeof(void *));
		return 1;
	}
	size = (n * stride + HUGE - 1) & ~(HUGE - 1);
	b = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1,
		 0);
	if (b == MAP_FAILED) {
		perror("tlb_probe: mmap of 2 MiB pages");
		return 2;
	}
	perm = malloc(n * sizeof(*perm));
	if (perm == NULL)
		return 1;
	/* One cycle through every line, in a random order. */
	for (size_t i = 0; i < n; i++)
		perm[i] = i;
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = (size_t)rand_r(&seed) % (i + 1), t = perm[i];

		perm[i] = perm[j];
		perm[j] = t;
	}
	for (size_t i = 0; i < n; i++)
		*(void **)(b + perm[i] * stride) = b + perm[(i + 1) % n] * stride;
	p = (void **)(b + perm[0] * stride);
	for (size_t i = 0; i < WARM_ROUNDS * n; i++)
		p = *p;
	t0 = __rdtsc();
	for (size_t i = 0; i < LOADS; i++)
		p = *p;
	t1 = __rdtsc();
	printf("{\"lines\": %zu, \"stride\": %zu, \"region_bytes\": %zu, \"cycles_per_load\": "
	       "%.2f, "
	       "\"end\": %d}\n",
	       n, stride, size, (double)(t1 - t0) / LOADS, p != NULL);
	munmap(b, size);
	free(perm);
	return 0;
}
