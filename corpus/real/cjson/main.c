/* An order service on cJSON: every round it parses the next order (JSON text),
   prices it with order_total, and answers with a JSON summary built and printed by
   cJSON. On SIGUSR1 the seed's handler (corpus/common) loads ./patch.so and patches
   order_total. */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "hotfix.h"
#include "orders.h"

static const char *const orders[] = {
    "{\"id\": 1001, \"customer\": \"alice\", \"items\": [{\"sku\": \"tea\", \"price\": 2.75, \"qty\": 4}, {\"sku\": \"mug\", \"price\": 8.5, \"qty\": 1}]}",
    "{\"id\": 1002, \"customer\": \"bob\", \"items\": [{\"sku\": \"coffee\", \"price\": 11.25, \"qty\": 2}]}",
    "{\"id\": 1003, \"customer\": \"carol\", \"items\": [{\"sku\": \"tea\", \"price\": 2.75, \"qty\": 10}, {\"sku\": \"filter\", \"price\": 0.4, \"qty\": 25}, {\"sku\": \"kettle\", \"price\": 39, \"qty\": 1}]}",
};

static void serve(int round)
{
    const char *text = orders[round % (int)(sizeof orders / sizeof orders[0])];
    cJSON *order = cJSON_Parse(text);
    if (order == NULL) {
        printf("round %d: parse error near %.10s\n", round, cJSON_GetErrorPtr());
        return;
    }
    cJSON *reply = cJSON_CreateObject();
    cJSON_AddNumberToObject(reply, "round", round);
    cJSON_AddItemToObject(reply, "id", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(order, "id"), 1));
    cJSON_AddNumberToObject(reply, "total", order_total(order));
    char *out = cJSON_PrintUnformatted(reply);
    printf("%s\n", out);
    cJSON_free(out);
    cJSON_Delete(reply);
    cJSON_Delete(order);
}

int main(int argc, char **argv)
{
    int iterations = scenario_iterations(argc, argv);
    int raise_at = scenario_raise_at(argc, argv);

    scenario_init_stdout();
    hotfix_install_handler();
    printf("cJSON %s\n", cJSON_Version());
    for (int i = 0; i < iterations; i++) {
        if (i == raise_at)
            raise(SIGUSR1);
        serve(i);
        usleep(10000);
    }
    return 0;
}
