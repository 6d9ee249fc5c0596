/* layout.h - the checks the structure layout programs share. */
#ifndef LAYOUT_H
#define LAYOUT_H

#include <stddef.h>
#include <stdio.h>

#include <tapi.h>

#define P sizeof(void *)

static int checked, failures;

#define CHECK(type, field, expected)                                                      \
    do {                                                                                  \
        checked++;                                                                        \
        if (offsetof(type, field) != (size_t)(expected)) {                                \
            printf("%s.%s at %zu, expected %zu\n", #type, #field, offsetof(type, field),  \
                   (size_t)(expected));                                                   \
            failures++;                                                                   \
        }                                                                                 \
    } while (0)

#define SIZE(type, expected)                                                              \
    do {                                                                                  \
        checked++;                                                                        \
        if (sizeof(type) != (size_t)(expected)) {                                         \
            printf("sizeof(%s) %zu, expected %zu\n", #type, sizeof(type),                 \
                   (size_t)(expected));                                                   \
            failures++;                                                                   \
        }                                                                                 \
    } while (0)

#endif
