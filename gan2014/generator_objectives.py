"""AdversaryCost2's `generator_objective` keyword, shared by both backends -- NOT a 2014 option.

* 'nonsaturating' (the default; what every 2014 config ran): g_obj = mean softplus(-z0)
  = -mean log D(G(z)), the heuristic of the paper's section 3.
* 'minimax': g_obj = mean log(1 - D(G(z))) = -mean softplus(z0), the generator's term of the paper's
  value function V(D, G), which Algorithm 1 has G descend.

z0 are D's pre-sigmoid outputs on the generated batch: the same y_hat0 graph (same samples, same
dropout masks) that D's fake term uses. d_obj is unchanged by this option.

The 2014 code (goodfeli/adversarial) had no such switch. It could only express a blend, with
`blend_obj`: g_obj = (zurich_coeff * g_obj - minimax_coeff * d_obj) / (zurich_coeff +
minimax_coeff). With zurich_coeff = 0 that is -d_obj, whose gradient for G is HALF of the 'minimax'
option's, because d_obj = 0.5 * (real term + fake term) carries the factor 1/2. The two mechanisms
are not combined: blend_obj together with 'minimax' is refused.
"""

NONSATURATING = "nonsaturating"
MINIMAX = "minimax"
GENERATOR_OBJECTIVES = (NONSATURATING, MINIMAX)


def check_generator_objective(generator_objective, blend_obj=False):
    """The validated keyword value; ValueError for an unknown name or for 'minimax' + blend_obj."""
    if generator_objective not in GENERATOR_OBJECTIVES:
        raise ValueError(f"AdversaryCost2: generator_objective must be one of "
                         f"{GENERATOR_OBJECTIVES}, got {generator_objective!r}")
    if generator_objective == MINIMAX and blend_obj:
        raise ValueError("AdversaryCost2: generator_objective='minimax' cannot be combined with "
                         "blend_obj (the 2014 code's blend of the two objectives)")
    return generator_objective
