//! Choosing each next token: the sampling chain a request asks for, held to
//! an [`OutputGrammar`] when it has one.

use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;
use llama_cpp_2::token::data::LlamaTokenData;
use llama_cpp_2::token::data_array::LlamaTokenDataArray;

use crate::{BrainError, GenerationParams, OutputGrammar};

/// Candidates kept before top-p: llama.cpp's default.
const SAMPLED_TOP_K: i32 = 40;

/// The sampler of one generation.
pub(crate) struct TokenPicker {
    chain: LlamaSampler,
    grammar: Option<LlamaSampler>,
}

impl TokenPicker {
    pub(crate) fn new(model: &LlamaModel, params: &GenerationParams) -> Result<Self, BrainError> {
        let grammar = params
            .grammar
            .as_ref()
            .map(|g| grammar_sampler(model, g))
            .transpose()?;
        Ok(Self {
            chain: chain(params),
            grammar,
        })
    }

    /// The next token after the last one evaluated in `context`.
    ///
    /// With a grammar, the token the chain picks freely is checked alone
    /// first, and only when the grammar refuses it is the whole vocabulary
    /// masked and sampled again (llama.cpp's own server does the same):
    /// masking 262 144 candidates every token would cost more than the model.
    pub(crate) fn pick(&mut self, context: &LlamaContext<'_>) -> LlamaToken {
        let free = self.chain.sample(context, -1);
        let Some(grammar) = self.grammar.as_mut() else {
            return free;
        };
        // The grammar only masks (sets refused tokens to -inf): the logit
        // a lone candidate carries does not matter.
        let mut alone = LlamaTokenDataArray::new(vec![LlamaTokenData::new(free, 0.0, 0.0)], false);
        grammar.apply(&mut alone);
        if alone.data.first().is_some_and(|d| d.logit().is_finite()) {
            return free;
        }
        let mut all = LlamaTokenDataArray::from_iter(context.candidates_ith(-1), false);
        grammar.apply(&mut all);
        self.chain.apply(&mut all);
        all.selected_token().unwrap_or(free)
    }

    /// Moves the grammar past `token`. The chain has already seen it
    /// (`sample` accepts what it picks).
    pub(crate) fn accept(&mut self, token: LlamaToken) {
        if let Some(grammar) = self.grammar.as_mut() {
            // A grammar that throws here has no rule for `token`; `pick` only
            // hands out tokens it allowed, so this is only a resample's fallback.
            let _ = grammar.try_accept(token);
        }
    }
}

fn grammar_sampler(model: &LlamaModel, grammar: &OutputGrammar) -> Result<LlamaSampler, BrainError> {
    let made = match &grammar.trigger {
        None => LlamaSampler::grammar(model, &grammar.gbnf, &grammar.root),
        Some(trigger) => {
            LlamaSampler::grammar_lazy(model, &grammar.gbnf, &grammar.root, [trigger.as_bytes()], &[])
        }
    };
    made.map_err(|e| BrainError::InvalidInput(format!("llama.cpp refused the output grammar: {e}")))
}

fn chain(params: &GenerationParams) -> LlamaSampler {
    if params.temperature <= 0.0 {
        LlamaSampler::greedy()
    } else {
        // Top-k first, as llama.cpp's own default chain has it: top-p alone
        // sorts the whole vocabulary every token (262 144 entries for Gemma 3),
        // which halved generation speed, while the 40 likeliest tokens hold
        // all but a sliver of the probability at these temperatures.
        LlamaSampler::chain_simple([
            LlamaSampler::top_k(SAMPLED_TOP_K),
            LlamaSampler::top_p(params.top_p.clamp(0.01, 1.0), 1),
            LlamaSampler::temp(params.temperature),
            LlamaSampler::dist(params.seed),
        ])
    }
}
