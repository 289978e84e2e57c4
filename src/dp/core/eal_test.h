/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests that need EAL (mempools, rte_hash, rte_acl, graphs): one lcore,
 * no hugepages, no PCI, and a file prefix of the test's own so that tests
 * running side by side do not meet.
 */
#ifndef AP_EAL_TEST_H
#define AP_EAL_TEST_H

#include <stdio.h>
#include <unistd.h>

#include <rte_eal.h>

/* EAL for test @p name with @p mem_mb MiB of memory; < 0 on failure. */
static inline int
ap_test_eal_init(const char *name, const char *mem_mb)
{
	char prefix[64];
	char *argv[] = {(char *)name,	     "--no-huge",      "-m", (char *)mem_mb,
			"--no-pci",	     "--no-telemetry", "-l", "0",
			"--log-level=error", prefix,	       NULL};

	snprintf(prefix, sizeof(prefix), "--file-prefix=%s-%d", name, (int)getpid());
	return rte_eal_init(10, argv);
}

#endif
